/**
 * Random-mode throughput against Quint's simulator (../shared/anchors/README.md: `quint run
 * --backend typescript` on TwoPhase, N=5, 20 steps per sample: 685 samples/s, 13,690 steps/s).
 *
 * Same protocol, same step bound (`maxDepth: 20`). Steps are the events walks actually took:
 * pacta's walks stop at states with no successor that changes anything (two-phase ends after
 * about 10 real steps), while Quint's samples always run 20 steps, stuttering included, so
 * steps/s is the conservative comparison and samples (walks) per second the generous one; both
 * are printed. Each figure is the median of 3 in-process runs (after one warm-up run) on this
 * shared machine. `--full` adds rms=8 (1.7 M states), where walks revisit far fewer states and
 * the transition memo helps less.
 */
import { num, table } from '../cli/format.ts';
import { checkSync, type CheckOptions } from '../checker/index.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';

const QUINT = { samplesPerSecond: 685, stepsPerSecond: 13_690 };
const full = process.argv.includes('--full');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Figure {
  stepsPerSecond: number;
  walksPerSecond: number;
  stepsPerWalk: number;
  distinct: number;
}

function measure(rms: number, walks: number, extra: CheckOptions): Figure {
  const opts: CheckOptions = { mode: 'random', params: { rms }, maxDepth: 20, walks, ...extra };
  checkSync(twoPhase, { ...opts, walks: Math.min(walks, 2_000), seed: 999 }); // warm-up (JIT)
  const runs = [1, 2, 3].map((seed) => {
    const r = checkSync(twoPhase, { ...opts, seed });
    return { steps: r.stats.steps! / r.stats.seconds, walks: r.stats.walks! / r.stats.seconds, perWalk: r.stats.steps! / r.stats.walks!, distinct: r.stats.distinctStates };
  });
  return {
    stepsPerSecond: median(runs.map((r) => r.steps)),
    walksPerSecond: median(runs.map((r) => r.walks)),
    stepsPerWalk: median(runs.map((r) => r.perWalk)),
    distinct: median(runs.map((r) => r.distinct)),
  };
}

const configs: [string, number, number, CheckOptions][] = [
  ['uniform', 5, 200_000, {}],
  ['uniform, no transition memo', 5, 20_000, { cacheStates: 0 }],
  ['pct d=3', 5, 200_000, { strategy: 'pct', pctDepth: 3 }],
  ['swarm', 5, 200_000, { swarm: true }],
  ['pct d=3 + swarm', 5, 200_000, { strategy: 'pct', swarm: true }],
  ['fast-check schedules', 5, 20_000, { strategy: 'fast-check' }],
  ...(full
    ? ([
        ['uniform', 8, 200_000, {}],
        ['uniform, no transition memo', 8, 20_000, { cacheStates: 0 }],
      ] as [string, number, number, CheckOptions][])
    : []),
];

const rows = configs.map(([name, rms, walks, extra]) => {
  const f = measure(rms, walks, extra);
  return [
    name, String(rms), num(f.stepsPerSecond), `${(f.stepsPerSecond / QUINT.stepsPerSecond).toFixed(1)}×`,
    num(f.walksPerSecond), `${(f.walksPerSecond / QUINT.samplesPerSecond).toFixed(1)}×`, f.stepsPerWalk.toFixed(1), num(f.distinct),
  ];
});
console.log('two-phase commit, random walks of at most 20 steps (median of 3 runs)');
console.log(
  table(
    ['strategy', 'rms', 'steps/s', 'vs Quint steps/s', 'walks/s', 'vs Quint samples/s', 'steps/walk', 'distinct states'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  ),
);

// Finding commit-early: walks and time to the first violation, rms=5, over 10 seeds.
const found: { walks: number; seconds: number; length: number }[] = [];
for (let seed = 1; seed <= 10; seed++) {
  const r = checkSync(twoPhase.variant('commit-early'), { mode: 'random', params: { rms: 5 }, maxDepth: 20, seed });
  if (r.result !== 'violation') throw new Error(`seed ${seed}: commit-early not found (${r.result})`);
  found.push({ walks: r.stats.walks!, seconds: r.stats.seconds, length: r.trace!.steps.length - 1 });
}
console.log(
  `commit-early (rms=5) found from all 10 seeds: median ${median(found.map((f) => f.walks))} walks, ` +
    `${(median(found.map((f) => f.seconds)) * 1000).toFixed(1)} ms, ${median(found.map((f) => f.length))} steps before minimizing`,
);
