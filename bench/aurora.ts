/**
 * Aurora benchmark: the bundled `aurora` spec as a cluster in this process (a writer, 6 segments
 * with durable logs flushed by fdatasync, a read replica; memory transport with 0–2 ms delays).
 *
 *   npx tsx --conditions=pacta-source bench/aurora.ts            (50 fault cycles: 100 writer crash/restarts; a few minutes under load)
 *   npx tsx --conditions=pacta-source bench/aurora.ts --quick    (10 cycles)
 *
 * 1. Faults: docs/examples/aurora-cluster.ts's workload — per cycle an AZ outage (AZ+1 every
 *    third), the writer crashed in the middle of the clients' commits and restarted, then cut off
 *    from every segment while a commit comes in, crashed and restarted — and every acknowledged
 *    commit read back from the replica and the segments afterwards. Figures: commits
 *    acknowledged, lost (must be 0), commit latency as the clients see it (the fault windows
 *    included: retries after a 300 ms timeout while the writer recovers or an AZ+1 stalls writes).
 * 2. Steady state: the same cluster without faults, 2 clients committing one after another;
 *    commit latency, and the bytes the writer ships per commit; then the same with the durable
 *    logs not flushed, to show what the flushes cost (a commit waits for the writer's flush of
 *    its request id and for 4 segments' flushes of each record).
 *
 * Write amplification. A commit is one mini-transaction of 2 redo records, each changing one
 * page. Shipping the log, the writer sends each record to 6 segments: 12 `write` frames per
 * commit (payload: the record and the writer's VDL; framing: pacta's 28-byte header and 16-byte
 * authentication tag). Shipping pages instead (what a mirrored database does, and what Aurora
 * avoids) sends each changed page to 6 copies; the page size assumed is 16 KiB, the InnoDB
 * default that Aurora MySQL keeps. The ratio is pages shipped over log shipped, both with
 * pacta's framing, for the same commits; it grows with the page size and the records per page.
 */
import { execSync } from 'node:child_process';
import { table } from '../cli/format.ts';
import { run, type AuroraRunReport } from '../docs/examples/aurora-cluster.ts';
import type { NodeEvent } from '../impl/index.ts';
import { FRAME_OVERHEAD_BYTES } from '../impl/net/frame.ts';
import { Writer } from '../specs/core/bytes.ts';
import aurora, { type AuroraMsg } from '../specs/aurora/aurora.ts';

const quick = process.argv.includes('--quick');
const PAGE_BYTES = 16 * 1024;

/** Sizes the `write` messages segments receive from the writer (node 0): payload, and frame with pacta's header and tag. */
function writeSizer(): { bytes: number; payloadBytes: number; onEvent: (e: NodeEvent) => void } {
  const sizes = {
    bytes: 0,
    payloadBytes: 0,
    onEvent: (e: NodeEvent): void => {
      if (e.kind !== 'step' || e.input !== 'message' || e.from !== 0 || (e.payload as { kind: string }).kind !== 'write') return;
      const w = new Writer(64);
      aurora.messages.encode(w, e.payload as AuroraMsg);
      const n = w.toBytes().length;
      sizes.payloadBytes += n;
      sizes.bytes += n + FRAME_OVERHEAD_BYTES;
    },
  };
  return sizes;
}

function load(): string {
  try {
    return execSync('uptime', { encoding: 'utf8' }).trim().replace(/^.*load average:\s*/, 'load ');
  } catch {
    return 'load unknown';
  }
}

function ms(x: number): string {
  return x.toFixed(1);
}

console.log(`Node ${process.version}, ${process.platform}/${process.arch}; ${load()}`);

// 1. Faults.
const cycles = quick ? 10 : 50;
const faults: AuroraRunReport = await run({ cycles, commitsPerCycle: 6, clients: 2, syncMode: 'datasync', log: () => {} });
console.log(`\nfaults: ${faults.cycles} cycles, ${faults.writerRestarts} writer crash/restarts, ${faults.azOutages} AZ outages (${faults.azPlusOne} AZ+1), ${faults.seconds.toFixed(1)} s; ${load()}`);
console.log(table(
  ['commits acknowledged', 'commit calls', 'lost', 'history', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
  [[String(faults.acknowledged), String(faults.attempts), String(faults.lost.length), faults.linearizable ? 'linearizable' : 'NOT linearizable',
    ms(faults.latencyMs.p50), ms(faults.latencyMs.p90), ms(faults.latencyMs.p99), ms(faults.latencyMs.max)]],
));

// 2. Steady state (and the same without flushes, to show what fdatasync costs).
const sizer = writeSizer();
const steady: AuroraRunReport = await run({ cycles: 0, clients: 2, syncMode: 'datasync', log: () => {}, steadyCommits: quick ? 100 : 400, onEvent: sizer.onEvent });
const unsynced: AuroraRunReport = await run({ cycles: 0, clients: 2, syncMode: 'none', log: () => {}, steadyCommits: quick ? 100 : 400 });
const perCommit = sizer.bytes / steady.acknowledged;
const payloadPerCommit = sizer.payloadBytes / steady.acknowledged;
const framesPerCommit = steady.writeFrames / steady.acknowledged;
const pagesPerCommit = steady.mtrRecords * 6 * (PAGE_BYTES + FRAME_OVERHEAD_BYTES);
console.log(`\nsteady state: ${steady.acknowledged} commits, ${steady.seconds.toFixed(1)} s (${(steady.acknowledged / steady.seconds).toFixed(0)} commits/s); ${load()}`);
console.log(table(
  ['p50 ms', 'p90 ms', 'p99 ms', 'write frames/commit', 'log bytes/commit', 'of which payload', 'pages bytes/commit (16 KiB)', 'pages / log'],
  [[ms(steady.latencyMs.p50), ms(steady.latencyMs.p90), ms(steady.latencyMs.p99), framesPerCommit.toFixed(1), perCommit.toFixed(0),
    payloadPerCommit.toFixed(0), pagesPerCommit.toFixed(0), `${(pagesPerCommit / perCommit).toFixed(0)}×`]],
));
console.log(`\nsame without flushes (syncMode none): ${unsynced.acknowledged} commits, ${unsynced.seconds.toFixed(1)} s (${(unsynced.acknowledged / unsynced.seconds).toFixed(0)} commits/s), ` +
  `p50 ${ms(unsynced.latencyMs.p50)} ms, p99 ${ms(unsynced.latencyMs.p99)} ms; ${load()}`);
if (faults.lost.length > 0 || !faults.linearizable) {
  console.error('acknowledged commits were lost');
  process.exit(1);
}
