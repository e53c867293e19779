/**
 * Cross-shard commit under coordinator failure, live: the vitess and citus examples
 * (docs/examples/{vitess,citus}-cluster.ts) run N fault cycles each — the coordinator killed
 * between PREPARE and COMMIT, shards/workers crashed and restarted — with recovery (the MM's
 * watchdog; Citus's maintenance-daemon recovery) and without it. For each run: transactions,
 * how many resolved, how many broke atomicity (must be 0), and how long prepared participants
 * stayed blocked (from PREPARE to their decision; p50 and p99 over those that decided, and how
 * many were still prepared when the run ended — blocked at least the settle window).
 *
 *   npx tsx --conditions=pacta-source bench/cross-shard.ts              (60 cycles each; about 3 minutes of wall time, mostly timers)
 *   npx tsx --conditions=pacta-source bench/cross-shard.ts --quick      (12 cycles each)
 *
 * What the blocked time measures: the recovery timers of the specs (Vitess's watchdog fires
 * 300–500 ms after a transaction's metadata appears, Citus's recovery every 100–200 ms; a Citus
 * backend that waits on a crashed worker gives up after 500 ms, a recovery round or a resolution
 * whose replies do not come is given up after 1 s), plus the 30 ms the coordinator stays down.
 * Without recovery nothing ends a transaction the coordinator abandoned: those participants stay
 * blocked for good (here: until the end of the settle window). Everything shares one event loop
 * on a shared machine: the load is printed beside the figures.
 */
import { loadavg } from 'node:os';
import { table } from '../cli/format.ts';
import { run as runCitus } from '../docs/examples/citus-cluster.ts';
import { run as runVitess } from '../docs/examples/vitess-cluster.ts';

const quick = process.argv.includes('--quick');
const cycles = quick ? 12 : 60;
const settleWithout = 1000;

interface Row {
  system: string;
  recovery: string;
  cycles: number;
  transactions: number;
  resolved: number;
  notAtomic: number;
  blockedP50: string;
  blockedP99: string;
  allP50: string;
  allP99: string;
  stillBlocked: number;
  seconds: string;
}

const ms = (x: number): string => (Number.isNaN(x) ? '-' : `${x.toFixed(0)} ms`);
const rows: Row[] = [];
const silent = (): void => {};

for (const recovery of [true, false]) {
  const settleMs = recovery ? 6000 : settleWithout;
  const v = await runVitess({ cycles, recovery, settleMs, log: silent });
  rows.push({
    system: 'vitess (VTGate + 3 shards)', recovery: recovery ? 'watchdog' : 'none', cycles, transactions: v.transactions,
    resolved: v.resolved, notAtomic: v.broken.length,
    blockedP50: ms(v.blocked.p50), blockedP99: ms(v.blocked.p99), allP50: ms(v.blocked.p50All), allP99: ms(v.blocked.p99All), stillBlocked: v.blocked.open, seconds: v.seconds.toFixed(1),
  });
  const c = await runCitus({ cycles, recovery, settleMs, log: silent });
  rows.push({
    system: 'citus (coordinator + 3 workers)', recovery: recovery ? 'recovery' : 'none', cycles, transactions: c.transactions,
    resolved: c.resolved, notAtomic: c.broken.length,
    blockedP50: ms(c.blocked.p50), blockedP99: ms(c.blocked.p99), allP50: ms(c.blocked.p50All), allP99: ms(c.blocked.p99All), stillBlocked: c.blocked.open, seconds: c.seconds.toFixed(1),
  });
}

console.log(`cross-shard commit under failure: ${cycles} fault cycles per run; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(table(
  ['system', 'recovery', 'cycles', 'txns', 'resolved', 'not atomic', 'decided: p50', 'p99', 'still blocked', 'all: p50', 'p99', 's'],
  rows.map((r) => [
    r.system, r.recovery, String(r.cycles), String(r.transactions), String(r.resolved), String(r.notAtomic), r.blockedP50, r.blockedP99,
    String(r.stillBlocked), (r.stillBlocked > 0 ? '≥ ' : '') + r.allP50, (r.stillBlocked > 0 ? '≥ ' : '') + r.allP99, r.seconds,
  ]),
));
console.log('blocked: from a participant\'s PREPARE to its decision. "decided": over the participants that decided; "all": over every');
console.log(`prepared participant, the still-blocked ones counted up to the end of the run (lower bounds). Without recovery they stay blocked for good.`);
const failed = rows.some((r) => r.notAtomic > 0 || (r.recovery !== 'none' && r.resolved !== r.transactions));
process.exit(failed ? 1 : 0);
