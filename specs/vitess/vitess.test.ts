/**
 * vitess: pinned state counts (a count is a regression test of the semantics), the goals that keep
 * the spec from being vacuous (the scatter read that sees half a transaction among them), what the
 * weaker transaction modes give up, and the broken variants caught with their shortest traces.
 */
import { describe, expect, it } from 'vitest';
import { checkSync, type CheckResult } from '../../checker/index.ts';
import { partialRead } from '../../docs/examples/vitess-partial-read.ts';
import { formatTrace } from '../../traces/index.ts';
import vitess, { applyWrites, cellKey, gsiDelete, gsiInsert, participants } from './vitess.ts';

const unreached = (r: CheckResult): string[] => r.goals.filter((g) => !g.reached).map((g) => g.name);
const steps = (r: CheckResult): number => (r.result === 'violation' ? r.trace!.steps.length - 1 : -1);
const violated = (r: CheckResult): string => (r.result === 'violation' ? r.property.name : r.result);

describe('vitess (TwoPC): the correct protocol', () => {
  it('defaults (1 client: a 2-shard or a 1-shard transaction; set network): 9,722 states, every goal reached', () => {
    const r = checkSync(vitess, {});
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(9_722);
    expect(r.stats.depth).toBe(26);
    expect(unreached(r)).toEqual([]);
    // Blocking is a reachable state: a prepared RM that only the watchdog can end.
    expect(r.goals.find((g) => g.name.startsWith('blocking'))?.depth).toBe(6);
  });

  it('a scatter read sees a partially committed transaction (atomicity, not isolation): reached in 14 steps', () => {
    // Two clients (a read, a 2-shard transaction); the watchdog off keeps the search small, the read needs no recovery.
    const r = checkSync(vitess, { params: { clients: 2, reads: true, singleShard: false, watchdog: false }, network: 'bag', maxInFlight: 2 });
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(1_767);
    const goal = r.goals.find((g) => g.name.startsWith('a scatter read'));
    expect(goal).toMatchObject({ reached: true, depth: 14 });
  });

  it('the partial scatter read as a trace (docs/examples/vitess-partial-read.ts): "reads are isolated" fails in 14 steps', async () => {
    const r = await partialRead();
    expect(violated(r)).toMatch(/^isolation/);
    expect(steps(r)).toBe(14);
    expect(formatTrace(r.result === 'violation' ? r.trace! : (undefined as never))).toMatch(/reply\(id: 0, result: read\(seen: \[\{shard: 0, dtid: 4:0\}\]\)\)/);
  });

  it('global secondary index: the index agrees with the base table at every committed snapshot', () => {
    const r = checkSync(vitess, { params: { workload: 'gsi' } });
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(19_433);
    expect(unreached(r)).toEqual([]);
  });

  it('Multi mode gives up atomicity: a transaction half committed with no decision recorded, in 3 steps', () => {
    const r = checkSync(vitess, { params: { mode: 'multi' } });
    expect(violated(r)).toMatch(/^no half-committed transaction/);
    expect(steps(r)).toBe(3);
  });

  it('Single mode gives up multi-shard transactions: the goal is unreachable (they are rejected)', () => {
    const r = checkSync(vitess, { params: { mode: 'single' } });
    expect(r.result).toBe('violation');
    expect(unreached(r)).toContain('a multi-shard transaction commits on every shard');
    expect(unreached(r)).not.toContain('a single-shard transaction commits locally');
  });

  it('without the watchdog nothing rolls back an abandoned transaction (the goal is unreachable)', () => {
    const r = checkSync(vitess, { params: { watchdog: false } });
    expect(unreached(r)).toEqual(['a multi-shard transaction is rolled back on its MM']);
  });
});

describe('vitess broken variants are caught', () => {
  const cases: [variant: string, property: RegExp, length: number][] = [
    ['commit-prepared-after-reparent', /^no half-committed transaction/, 13],
    ['watchdog-rolls-back-commit', /^no half-committed transaction/, 10],
    ['decision-not-durable', /^no half-committed transaction/, 7],
    ['async-index', /^global index/, 3],
  ];
  for (const [variant, property, length] of cases) {
    it(`${variant}: ${length} steps`, () => {
      const r = checkSync(vitess.variant(variant), {});
      expect(violated(r)).toMatch(property);
      expect(steps(r)).toBe(length);
    });
  }

  it('commit-prepared-after-reparent needs the restart: without crashes the variant behaves', () => {
    expect(checkSync(vitess.variant('commit-prepared-after-reparent'), { crashes: 0 }).result).toBe('ok');
  });

  it('watchdog-rolls-back-commit: the trace ends with ROLLBACK recorded over a committed MM', () => {
    const r = checkSync(vitess.variant('watchdog-rolls-back-commit'), {});
    if (r.result !== 'violation') throw new Error(`expected a violation, got ${r.result}`);
    const mm = r.trace!.steps.at(-1)!.state.nodes.find((n) => n.name === 'shard1')!.state as { committed: string[]; dt: [string, { state: string }][] };
    expect(mm.committed).toHaveLength(1);
    expect(mm.dt.map(([, rec]) => rec.state)).toEqual(['rollback']);
  });
});

describe('vitess helpers', () => {
  it('routes writes by keyspace id and keeps first-appearance order (the first shard is the MM)', () => {
    const shards = [1, 2, 3];
    const { writes } = gsiInsert(4, 2) as { writes: Parameters<typeof participants>[0] };
    expect(participants(writes, shards)).toEqual([2, 3]); // row 4 → shard 4 % 3 = 1 (id 2); index key 2 → id 3
    expect(writes.map(cellKey)).toEqual(['r4', 'l2.4']);
  });

  it('insert then delete leaves nothing; a delete of another value is a no-op', () => {
    const ins = (gsiInsert(0, 1) as { writes: Parameters<typeof applyWrites>[1] }).writes;
    const dl = (gsiDelete(0, 1) as { writes: Parameters<typeof applyWrites>[1] }).writes;
    const other = (gsiDelete(0, 2) as { writes: Parameters<typeof applyWrites>[1] }).writes;
    const after = applyWrites(new Map(), ins);
    expect([...after]).toEqual([['r0', 2], ['l1.0', 1]]);
    expect([...applyWrites(after, dl)]).toEqual([]);
    expect([...applyWrites(after, other.slice(0, 1))]).toEqual([...after]);
  });
});
