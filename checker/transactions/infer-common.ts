/** Order edges added to a workload's graph: process (level 1), real time (2), timestamps (3). */
import type { InferOptions } from './analysis.ts';
import { processPairs, realtimePairs, timestampPairs } from './order-edges.ts';
import { info, PROCESS, REALTIME, TIMESTAMP, type TxnGraph } from './txn-graph.ts';
import type { Transaction } from './transaction.ts';

export function addOrderEdges(graph: TxnGraph, txns: readonly Transaction[], effective: Uint8Array, options: InferOptions): void {
  if (!options.process && !options.realtime && !options.timestamps) return;
  const members = txns.filter((t) => effective[t.id]);
  if (options.process) processPairs(members, (a, b) => graph.add(a.id, b.id, info(PROCESS, 1)));
  if (options.realtime) realtimePairs(members, (a, b) => graph.add(a.id, b.id, info(REALTIME, 2)));
  if (options.timestamps) timestampPairs(members, (a, b) => graph.add(a.id, b.id, info(TIMESTAMP, 3)));
}
