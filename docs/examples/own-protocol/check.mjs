// The library from plain Node: no TypeScript, no loader. A spec written in JavaScript, checked
// with `checkSync` from 'pacta-check/checker'; exit 0 when every property holds, 1 when not.
import { invariant, protocol, reachable, t } from 'pacta-check';
import { checkSync } from 'pacta-check/checker';

const spec = protocol({ name: 'light', params: {}, messages: t.union('kind', { flip: {} }) });
const light = spec.role(t.bool)({
  count: 3,
  init: () => false,
  onMessage: (s) => s,
  actions: { flip: { do: (s) => !s } },
});
const lights = spec.define({
  roles: { light },
  properties: () => [
    invariant('a light is on or off', (w) => w.all('light', (s) => typeof s === 'boolean')),
    reachable('all on', (w) => w.all('light', true)),
  ],
});

const result = checkSync(lights);
console.log(`${result.result}: ${result.stats.distinctStates} distinct states`);
process.exit(result.result === 'ok' ? 0 : 1);
