/**
 * Linearizability checking time on Porcupine's corpus, next to Porcupine's figures measured on
 * the same kind of machine (../shared/anchors/porcupine-figures.md).
 *
 * `npx tsx bench/lincheck.ts [--runs N]`: per history, the fastest of N checks (default 5,
 * like the anchor), summed; reading the files is excluded, one warm-up pass comes first. Also
 * one plain sequential pass, the kv histories partitioned by key, c10-ok checked as one object,
 * and the etcd corpus with the reductions off (the plain Wing-Gong-Lowe search that Porcupine
 * runs). Every verdict is compared with expected.csv.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { table } from '../cli/format.ts';
import { parseEtcdLog } from '../checker/history/etcd-log.ts';
import type { History } from '../checker/history/history.ts';
import { parseEdnKvHistory } from '../checker/history/jepsen-edn.ts';
import { checkLinearizability, type LinearizabilityResult } from '../checker/linearizability/check-linearizability.ts';
import { kvModel } from '../specs/core/models/kv.ts';
import type { SequentialModel } from '../checker/linearizability/model.ts';
import { registerModel } from '../specs/core/models/register.ts';
import { wholeObjectModel } from '../checker/linearizability/whole-object-model.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
// The corpus is in the repository (the same files as the anchors' copy), so the bench runs on a fresh clone.
const anchors = fileURLToPath(new URL('../tests/fixtures/porcupine/', import.meta.url));

type AnyModel = SequentialModel<unknown, unknown, unknown>;
interface Entry {
  readonly file: string;
  readonly linearizable: boolean;
  readonly history: History;
}

const entries: Entry[] = readFileSync(`${anchors}expected.csv`, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split(','))
  .map(([file, , linearizable]) => {
    const text = readFileSync(anchors + file!, 'utf8');
    return { file: file!, linearizable: linearizable === 'true', history: file!.startsWith('jepsen/') ? parseEtcdLog(text, file) : parseEdnKvHistory(text, file) };
  });
const etcd = entries.filter((e) => e.file.startsWith('jepsen/'));
const kv = (name: string): Entry => entries.find((e) => e.file === `kv/${name}.txt`)!;

const wrong: string[] = [];
/** Checks once; returns wall milliseconds (the checker's own clock, reading excluded). */
function once(e: Entry, model: AnyModel, reductions = true): number {
  const r: LinearizabilityResult = checkLinearizability(e.history, model, { timeLimitSeconds: 120, reductions });
  const expected = e.linearizable ? 'linearizable' : 'not-linearizable';
  if (r.result !== expected && !wrong.includes(e.file)) wrong.push(`${e.file}: ${r.result}, expected ${expected}`);
  return r.seconds * 1000;
}
/** Fastest of `n` checks. */
const best = (e: Entry, model: AnyModel, n = runs, reductions = true): number =>
  Math.min(...Array.from({ length: n }, () => once(e, model, reductions)));

const register = registerModel as AnyModel;

// Warm-up pass (JIT), not measured.
for (const e of etcd) once(e, register);

const sequentialPass = etcd.reduce((sum, e) => sum + once(e, register), 0);
const perFile = new Map(etcd.map((e) => [e.file, best(e, register)]));
const sum = (filter: (e: Entry) => boolean): number => etcd.filter(filter).reduce((s, e) => s + perFile.get(e.file)!, 0);
const total = sum(() => true);
const plainTotal = etcd.reduce((s, e) => s + best(e, register, runs, false), 0);
const kvOk = best(kv('c50-ok'), kvModel as AnyModel);
const kvBad = best(kv('c50-bad'), kvModel as AnyModel);
const wholeRuns = Math.min(runs, 3);
const kvWhole = best(kv('c10-ok'), wholeObjectModel(kvModel) as AnyModel, wholeRuns);

const ms = (x: number): string => x.toFixed(1);
const ratio = (ours: number, theirs: number): string => `${(ours / theirs).toFixed(2)}×`;
const rows: [string, number, number | string][] = [
  ['etcd, all 102 histories, sum of per-file fastest', total, 523],
  ['etcd, 79 non-linearizable', sum((e) => !e.linearizable), 148],
  ['etcd, 23 linearizable', sum((e) => e.linearizable), 374],
  ['etcd, one sequential pass', sequentialPass, '660–714'],
  ['etcd_002 (77 ops, linearizable)', perFile.get('jepsen/etcd_002.log')!, 226],
  ['etcd_007 (81 ops, linearizable)', perFile.get('jepsen/etcd_007.log')!, 116],
  ['etcd_057 (not linearizable)', perFile.get('jepsen/etcd_057.log')!, 73],
  ['etcd_099 (not linearizable)', perFile.get('jepsen/etcd_099.log')!, 58],
  ['etcd, all, plain search (no reductions, as Porcupine)', plainTotal, 523],
  ['kv c50-ok (1,712 ops), partitioned', kvOk, 244],
  ['kv c50-bad, partitioned', kvBad, '2–46'],
  [`kv c10-ok as one object (best of ${wholeRuns})`, kvWhole, 3500],
];
console.log(`pacta lincheck vs Porcupine 1.3.0 (1 thread); fastest of ${runs} per history, ms; Node ${process.version}`);
console.log(
  table(
    ['figure', 'pacta ms', 'Porcupine ms', 'ratio'],
    rows.map(([name, ours, theirs]) => [name, ms(ours), String(theirs), typeof theirs === 'number' ? ratio(ours, theirs) : '']),
    ['left', 'right', 'right', 'right'],
  ),
);
const slowest = [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 5);
console.log(`slowest etcd histories: ${slowest.map(([f, t]) => `${f.replace('jepsen/', '')} ${ms(t)}`).join(', ')}`);
if (wrong.length > 0) {
  console.log(`WRONG VERDICTS:\n  ${wrong.join('\n  ')}`);
  process.exitCode = 1;
} else {
  console.log(`verdicts: all ${entries.length} match expected.csv`);
}
