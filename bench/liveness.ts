/**
 * Liveness beside safety on the same model: two-phase commit (termination under fair delivery and
 * weakly fair steps), the exhaustive BFS with the state graph recorded and the fair-cycle analysis
 * after it, against the same BFS without liveness (`liveness: false`). Prints distinct states,
 * states/s, the visited set's bytes/state, the graph's edges, bytes/edge and bytes/state, the
 * analysis time, and the liveness/safety time ratio (the faster of three runs each) (TLC's liveness runs several times slower than
 * its safety check on the same model). Default rms=5 and 6 (8,832 and 50,816 states).
 *
 *   nice npx tsx bench/liveness.ts [rms...]
 */
import { checkSync } from '../checker/check.ts';
import { num, table } from '../cli/format.ts';
import { bundledSpecs } from '../specs/catalogue.ts';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const spec = await bundledSpecs['two-phase']!.load();
const rows: string[][] = [];
for (const rms of sizes.length ? sizes : [5, 6]) {
  checkSync(spec, { params: { rms: 3 } }); // warm up
  // The faster of three runs each, alternating, so that a loaded machine hurts both alike.
  let safety = checkSync(spec, { params: { rms }, liveness: false });
  let live = checkSync(spec, { params: { rms } });
  for (let i = 0; i < 2; i++) {
    const s = checkSync(spec, { params: { rms }, liveness: false });
    if (s.stats.seconds < safety.stats.seconds) safety = s;
    const l = checkSync(spec, { params: { rms } });
    if (l.stats.seconds < live.stats.seconds) live = l;
  }
  const g = live.stats.graph!;
  rows.push([
    `rms=${rms}`, live.result, num(live.stats.distinctStates), num(g.edges),
    num(safety.stats.statesPerSecond), num(live.stats.statesPerSecond),
    safety.stats.bytesPerState.toFixed(1), (live.stats.bytesPerState + g.bytes / live.stats.distinctStates).toFixed(1),
    '8', `${g.analysisSeconds.toFixed(3)} s`, `${(live.stats.seconds / safety.stats.seconds).toFixed(2)}x`,
  ]);
}
console.log(table(['two-phase', 'liveness', 'states', 'edges', 'safety states/s', 'liveness states/s', 'safety B/state', 'liveness B/state', 'B/edge', 'analysis', 'liveness/safety time'], rows));
