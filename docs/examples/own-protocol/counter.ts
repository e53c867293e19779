/**
 * Your own protocol, in your own package: two counters that each count up to `max`. It imports
 * pacta by its package name, as any spec outside pacta's repository does; `npx pacta check
 * ./counter.ts` compiles it on load (no build step of yours) and explores every state.
 */
import { invariant, protocol, reachable, t } from 'pacta-check';

const spec = protocol({ name: 'counter', params: { max: 3 }, messages: t.union('kind', { bump: {} }) });

const counter = spec.role(t.u32)({
  count: 2,
  init: () => 0,
  onMessage: (s) => s,
  actions: { inc: { when: (s, ctx) => s < ctx.params.max, do: (s) => s + 1 } },
});

export default spec.define({
  roles: { counter },
  properties: (p) => [
    invariant('bounded', (w) => w.all('counter', (s: number) => s <= p.max)),
    reachable('both at max', (w) => w.all('counter', p.max)),
  ],
  // A broken variant: `npx pacta check ./counter.ts:unbounded` finds the counter that passes max.
  variants: { unbounded: { doc: 'counts past max', roles: { counter: { actions: { inc: { when: (s: number) => s < 5 } } } } } },
});
