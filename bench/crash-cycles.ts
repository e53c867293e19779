/**
 * Crash cycles (issue 24): a 3-node raft-kv cluster under a put workload with unique keys, 50
 * cycles per mode — a crash; a torn tail (a save cut short by the crash); one bit flipped anywhere in one
 * replica's log; one replica's log emptied; the last record of one replica's log lost whole (a flush
 * that lied, found by its high-water mark) — every acknowledged put read back afterwards and the
 * history checked for linearizability (tests/crash-cycles.ts has the method).
 *
 *   npx tsx bench/crash-cycles.ts                 (50 cycles per mode, udp; several minutes)
 *   npx tsx bench/crash-cycles.ts --cycles 10 --transport memory
 *   npx tsx bench/crash-cycles.ts --recovery as-is   (raft:truncate-on-corruption's servers, for contrast)
 *
 * Target: 0 acknowledged puts lost in every mode, the cluster available again after each cycle,
 * every damaged replica reported and repaired (bit flip, emptied log, lost write).
 */
import { loadavg } from 'node:os';
import { table } from '../cli/format.ts';
import { CYCLE_MODES, runCrashCycles, type CycleMode, type CycleReport } from '../tests/crash-cycles.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const cycles = Number(arg('cycles') ?? 50);
const transport = (arg('transport') ?? 'udp') as 'memory' | 'udp' | 'tcp';
const modes = (arg('modes')?.split(',') ?? CYCLE_MODES) as CycleMode[];
// --recovery as-is: the servers of raft:truncate-on-corruption (take what could be read as the truth), for contrast.
const recovery = (arg('recovery') ?? 'repair') as 'repair' | 'as-is';
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(', ');

console.log(`crash cycles: ${cycles} per mode, ${transport}, 3 raft-kv servers (recovery: ${recovery}), 4 put loops (unique keys); load average before: ${load()}`);
const reports: CycleReport[] = [];
for (const mode of modes) {
  const r = await runCrashCycles({ mode, cycles, transport, seed: 1, recovery, ...(process.argv.includes('--verbose') ? { onCycle: (l: string) => console.log(`    ${l}`) } : {}) });
  reports.push(r);
  console.log(`  ${mode}: ${r.seconds.toFixed(1)} s, load average ${load()}`);
}
console.log(table(
  ['mode', 'cycles', 'acked puts', 'lost', 'reads wrong', 'history', 'damage reported', 'repaired', 'unsettled', 'max unavailable ms', 'max rejoin ms', 'node failures'],
  reports.map((r) => [
    r.mode, String(r.cycles), String(r.ackedPuts), String(r.lost), String(r.readsWrong), r.verdict,
    Object.entries(r.damaged).map(([k, n]) => `${k} ${n}`).join(', ') || '-', String(r.repaired), String(r.unsettled),
    String(r.maxUnavailableMs), String(r.maxRejoinMs), String(r.failures),
  ]),
));
const bad = reports.some((r) => r.lost > 0 || r.readsWrong > 0 || r.verdict !== 'linearizable' || r.unsettled > 0 || r.failures > 0);
console.log(`load average after: ${load()}`);
process.exit(bad ? 1 : 0);
