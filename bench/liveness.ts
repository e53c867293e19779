/**
 * Liveness beside safety on the same model: the exhaustive BFS with the state graph recorded and
 * the fair-cycle analysis after it, against the same BFS without liveness (`liveness: false`).
 * Prints distinct states, states/s, the visited set's bytes/state, the graph's edges, bytes/edge
 * and bytes/state, the analysis time, and the liveness/safety time ratio (the faster of `--runs`
 * runs each, alternating; TLC's liveness runs several times slower than its safety check on the
 * same model). Models:
 *
 * - two-phase, termination under fair delivery and weakly fair steps: rms=5 and 6 (8,832 and
 *   50,816 states);
 * - raft at its default bound (3 servers, terms ≤ 2, set network), "a leader is eventually
 *   elected" (`leaderLiveness`): 311,392 states;
 * - raft-kv, "every client request is eventually answered" (`requestLiveness`), 1 client × 2 ops,
 *   bag with ≤ 1 in flight (its check defaults): 58,136 states.
 *
 *   nice npx tsx bench/liveness.ts [--runs N] [two-phase] [raft] [raft-kv]
 */
import { checkSync } from '../checker/check.ts';
import type { CheckOptions } from '../checker/options.ts';
import type { CheckResult } from '../checker/result.ts';
import { num, table } from '../cli/format.ts';
import { bundledSpecs } from '../specs/catalogue.ts';
import type { Protocol } from '../specs/core/index.ts';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Math.max(1, Number(args[runsAt + 1]) || 1) : 3;
const picked = args.filter((a, i) => !a.startsWith('--') && (runsAt < 0 || i !== runsAt + 1));
const want = (name: string) => picked.length === 0 || picked.includes(name);

interface Model {
  label: string;
  spec: Protocol;
  options: CheckOptions;
}

const models: Model[] = [];
if (want('two-phase')) {
  const spec = await bundledSpecs['two-phase']!.load();
  checkSync(spec, { params: { rms: 3 } }); // warm up
  for (const rms of [5, 6]) models.push({ label: `two-phase rms=${rms}`, spec, options: { params: { rms } } });
}
if (want('raft')) {
  const spec = await bundledSpecs['raft']!.load();
  models.push({ label: 'raft (default bound)', spec, options: { symmetry: false, params: { leaderLiveness: true } } });
}
if (want('raft-kv')) {
  const spec = await bundledSpecs['raft-kv']!.load();
  models.push({ label: 'raft-kv 1 client × 2 ops', spec, options: { symmetry: false, params: { requestLiveness: true, clients: 1, opsPerClient: 2 } } });
}

const rows: string[][] = [];
for (const m of models) {
  // The faster of `runs` runs each, alternating, so that a loaded machine hurts both alike.
  let safety: CheckResult | null = null;
  let live: CheckResult | null = null;
  for (let i = 0; i < runs; i++) {
    const s = checkSync(m.spec, { ...m.options, liveness: false });
    if (!safety || s.stats.seconds < safety.stats.seconds) safety = s;
    const l = checkSync(m.spec, m.options);
    if (!live || l.stats.seconds < live.stats.seconds) live = l;
  }
  const g = live!.stats.graph!;
  const failed = live!.result === 'violation' && live!.property.kind !== 'invariant' && live!.property.kind !== 'reachable';
  const verdict = !live!.liveness?.every((p) => p.checked) ? `not checked (${live!.result})` : failed ? 'violated' : 'holds';
  rows.push([
    m.label, verdict, num(live!.stats.distinctStates), num(g.edges),
    num(safety!.stats.statesPerSecond), num(live!.stats.statesPerSecond),
    safety!.stats.bytesPerState.toFixed(1), (live!.stats.bytesPerState + g.bytes / live!.stats.distinctStates).toFixed(1),
    '8', `${g.analysisSeconds.toFixed(3)} s`, `${safety!.stats.seconds.toFixed(2)} s`, `${live!.stats.seconds.toFixed(2)} s`,
    `${(live!.stats.seconds / safety!.stats.seconds).toFixed(2)}x`,
  ]);
}
console.log(table(['model', 'liveness', 'states', 'edges', 'safety states/s', 'liveness states/s', 'safety B/state', 'liveness B/state', 'B/edge', 'analysis', 'safety time', 'liveness time', 'liveness/safety'], rows));
