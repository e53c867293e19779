/**
 * Raft's repair mode on the model, with disk faults emulated in spec code until the checker has
 * `--disk-faults` (specs/raft/disk-faults.ts: server 1 may lose its disk any number of times,
 * restarting from any older durable state). Prints states, depth and time per configuration.
 *
 *   npx tsx bench/raft-disk-faults.ts          (about a minute)
 *   npx tsx bench/raft-disk-faults.ts --full   (adds raft-kv with a client; several minutes)
 */
import { loadavg } from 'node:os';
import { checkSync, type CheckOptions } from '../checker/index.ts';
import { table } from '../cli/format.ts';
import type { Protocol } from '../specs/core/index.ts';
import { withEmulatedDiskFaults } from '../specs/raft/disk-faults.ts';
import raft from '../specs/raft/raft.ts';
import raftKv from '../specs/raft/raft-kv.ts';

const full = process.argv.includes('--full');
const bag1: CheckOptions = { network: 'bag', drop: true, maxInFlight: 1 };
const runs: [string, Protocol, CheckOptions][] = [
  ['raft, terms ≤ 2, log ≤ 1 (pinned)', withEmulatedDiskFaults(raft), bag1],
  ['raft, terms ≤ 3, log ≤ 1', withEmulatedDiskFaults(raft), { ...bag1, params: { maxTerm: 3 } }],
  ['raft, terms ≤ 2, log ≤ 2, batch 1 (batching, pipelining)', withEmulatedDiskFaults(raft), { ...bag1, params: { maxLog: 2, batch: 1 } }],
  ['raft:truncate-on-corruption, terms ≤ 2', withEmulatedDiskFaults(raft.variant('truncate-on-corruption')), { ...bag1, crashes: 0 }],
  ...(full ? [['raft-kv, 1 client × 2 ops, bag, ≤ 1 in flight', withEmulatedDiskFaults(raftKv), { network: 'bag', maxInFlight: 1, params: { clients: 1, opsPerClient: 2 } }] as [string, Protocol, CheckOptions]] : []),
];
console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
const rows: string[][] = [];
for (const [name, protocol, options] of runs) {
  const r = checkSync(protocol, options);
  rows.push([
    name, r.result === 'violation' ? `violation: ${r.property.name} (${r.trace!.steps.length - 1} steps)` : r.result,
    r.stats.distinctStates.toLocaleString('en'), String(r.stats.depth), r.stats.seconds.toFixed(1),
  ]);
  console.log(rows[rows.length - 1]!.join(' | '));
}
console.log(table(['configuration (3 servers; server 1 loses its disk)', 'result', 'states', 'depth', 's'], rows));
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
