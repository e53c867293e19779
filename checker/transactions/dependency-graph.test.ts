import { describe, expect, it } from 'vitest';
import { buildDependencyGraph } from './dependency-graph.ts';
import { makeTransactionHistory } from './transaction.ts';

describe('buildDependencyGraph (graphology copy of the dependency graph)', () => {
  it('has a node per transaction that took effect and every reason on each edge', () => {
    const h = makeTransactionHistory([
      { process: 0, call: 0, return: 1, status: 'committed', ops: [{ f: 'append', key: 'x', value: 1 }] },
      { process: 1, call: 2, return: 3, status: 'committed', ops: [{ f: 'r', key: 'x', value: [1] }, { f: 'append', key: 'x', value: 2 }] },
      { process: 2, call: 0, return: 9, status: 'aborted', ops: [{ f: 'append', key: 'y', value: 1 }] },
    ]);
    const { graph, readAnomalies } = buildDependencyGraph(h, { realtime: true });
    expect(graph.order).toBe(2);
    expect(readAnomalies).toEqual([]);
    const reasons = graph.getEdgeAttribute('0', '1', 'reasons');
    expect(reasons.map((r) => [r.type, r.assumption]).sort()).toEqual([['realtime', 'realtime'], ['wr', 'none'], ['ww', 'none']]);
    expect(reasons.find((r) => r.type === 'wr')!.text).toBe("T1 read x = [1], which ends with T0's append of 1");
  });
});
