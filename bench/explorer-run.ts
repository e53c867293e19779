/**
 * One explorer run in its own process (so peak RSS and whole-process time are its own):
 * `tsx bench/explorer-run.ts SPEC PARAMS_JSON OPTIONS_JSON` prints one JSON line.
 */
import { check } from '../checker/check.ts';
import { bundledSpecs } from '../specs/catalogue.ts';

const [name, paramsJson = '{}', optionsJson = '{}'] = process.argv.slice(2);
const entry = bundledSpecs[name ?? ''];
if (!entry) {
  console.error(`unknown spec ${name}`);
  process.exit(2);
}
const spec = await entry.load();
const r = await check(spec, { params: JSON.parse(paramsJson), ...JSON.parse(optionsJson) }, { ref: name!, module: entry.module });
console.log(
  JSON.stringify({
    result: r.result,
    distinctStates: r.stats.distinctStates,
    statesGenerated: r.stats.statesGenerated,
    depth: r.stats.depth,
    searchSeconds: r.stats.seconds,
    bytesPerState: r.stats.bytesPerState,
    collisionProbability: r.stats.collisionProbability,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);
