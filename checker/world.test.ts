/**
 * The world's semantics, one feature at a time, on tiny specs whose reachable states can be
 * counted by hand: network modes, loss and duplication, crashes with durable fields, clocks.
 */
import { describe, expect, it } from 'vitest';
import { invariant, protocol, reachable, t } from '../specs/core/index.ts';
import { checkSync } from './check.ts';
import { Model } from './model.ts';
import { normalizeOptions, type CheckOptions } from './options.ts';

/** A sender that sends 1 then 2 (as two separate actions) to a receiver that logs what it gets. */
const Pipe = (() => {
  const spec = protocol({ name: 'pipe', params: {}, messages: t.union('kind', { n: { v: t.u32 } }) });
  const sender = spec.role(t.u32)({
    count: 1,
    init: () => 0,
    actions: {
      send: {
        when: (s) => s < 2,
        do: (s, out, ctx) => {
          out.send(ctx.nodes('receiver')[0]!, { kind: 'n', v: s + 1 });
          return s + 1;
        },
      },
    },
  });
  const receiver = spec.role(t.array(t.u32))({
    count: 1,
    init: () => [],
    onMessage: (s, _from, m) => (s.length < 3 ? [...s, m.v] : s),
  });
  return spec.define({
    roles: { sender, receiver },
    properties: () => [
      invariant('in order', (w) => {
        const got = w.states<number[]>('receiver')[0]!;
        return got.every((v, i) => i === 0 || v > got[i - 1]!);
      }),
      reachable('got both', (w) => w.states<number[]>('receiver')[0]!.length >= 2),
    ],
  });
})();

function run(options: CheckOptions) {
  return checkSync(Pipe, options);
}

describe('network semantics', () => {
  it('fifo keeps per-link order: the in-order invariant holds', () => {
    expect(run({ network: 'fifo' }).result).toBe('ok');
  });

  it('bag reorders: the receiver can get 2 before 1', () => {
    const r = run({ network: 'bag' });
    expect(r.result).toBe('violation');
    if (r.result === 'violation') expect(r.trace!.steps.map((s) => s.event.kind)).toEqual(['init', 'action', 'action', 'deliver', 'deliver']);
  });

  it('set delivers a message any number of times (the receiver may log 1, 1)', () => {
    const r = run({ network: 'set' });
    expect(r.result).toBe('violation');
  });

  it('fifo with dup delivers the head twice: [1, 1] breaks strict order', () => {
    expect(run({ network: 'fifo', dup: true }).result).toBe('violation');
  });

  it('fifo with drop loses messages but never reorders', () => {
    const r = run({ network: 'fifo', drop: true });
    expect(r.result).toBe('ok');
    // States where the receiver got only [2] exist (1 was dropped).
    expect(r.stats.distinctStates).toBeGreaterThan(run({ network: 'fifo' }).stats.distinctStates);
  });

  it('state counts are the hand-counted ones', () => {
    // fifo: (sent, received | in flight) = (0,[]|), (1,[]|1), (1,[1]|), (2,[]|1 2), (2,[1]|2), (2,[1,2]|).
    // bag adds the reorderings (2,[2]|1) and (2,[2,1]|).
    expect([run({ network: 'fifo' }), run({ network: 'bag' })].map((r) => r.stats.distinctStates)).toEqual([6, 8]);
  });
});

describe('crashes and durable fields', () => {
  const spec = protocol({ name: 'durable', params: {}, messages: t.union('kind', { x: {} }) });
  const node = spec.role(t.struct({ kept: t.u32, lost: t.u32 }))({
    count: 1,
    durable: ['kept'],
    init: () => ({ kept: 0, lost: 0 }),
    actions: { bump: { when: (s) => s.kept < 1, do: (s) => ({ kept: s.kept + 1, lost: s.lost + 1 }) } },
  });
  const Durable = spec.define({
    roles: { node },
    properties: () => [invariant('lost never exceeds kept', (w) => w.all('node', (s: { kept: number; lost: number }) => s.lost <= s.kept))],
  });

  it('a crash keeps durable fields and resets the rest from init', () => {
    const model = new Model(Durable, normalizeOptions(Durable, { crashes: 1 }));
    const w = model.world;
    const bumped = { ...w.initial(), nodes: [{ kept: 1, lost: 1 }] };
    const crashed = w.crash(bumped, 0);
    expect(crashed.nodes[0]).toEqual({ kept: 1, lost: 0 });
    expect(crashed.crashed[0]).toBe(1);
    // No crash yet: {0,0}, {1,1}. After the one crash (the count is part of the state):
    // crashed {0,0}, restarted {0,0}, bumped {1,1}; crashed after a bump {1,0}, restarted {1,0}.
    expect(checkSync(Durable, { crashes: 1 }).stats.distinctStates).toBe(7);
  });

  it('a crashed node takes no steps and receives nothing until it restarts', () => {
    const r = checkSync(Durable, { crashes: 1 });
    expect(r.result).toBe('ok');
  });
});

describe('clocks', () => {
  const spec = protocol({ name: 'clock', params: {}, messages: t.union('kind', { x: {} }) });
  const node = spec.role(t.option(t.int))({
    count: 1,
    init: () => null,
    actions: { read: { when: (s) => s === null, do: (_s, out) => out.now() } },
  });
  const Clock = spec.define({
    roles: { node },
    properties: () => [
      reachable('read 2', (w) => w.node(0) === 2),
      invariant('never ahead of true time by more than 1', (w) => w.node<number | null>(0) === null || w.node<number>(0) <= w.time + 1),
    ],
  });

  it('true time advances by ticks up to maxTime', () => {
    const r = checkSync(Clock, { maxTime: 2 });
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(9); // (time, reading): reading ∈ {null} ∪ [0, time], time ∈ 0..2
  });

  it('clock error lets a node read ahead of or behind true time, within the bound', () => {
    const readings = new Set<number>();
    const model = new Model(Clock, normalizeOptions(Clock, { maxTime: 1, clockError: 1 }));
    const seen = new Set<string>();
    const queue = [model.world.initial()];
    for (let i = 0; i < queue.length; i++) {
      const s = queue[i]!;
      const key = Buffer.from(model.world.encode(s)).toString('hex');
      if (seen.has(key)) continue;
      seen.add(key);
      if (s.nodes[0] !== null) readings.add(s.nodes[0] as number);
      model.world.successors(s, (n) => void queue.push(n));
    }
    expect([...readings].sort()).toEqual([-1, 0, 1, 2]);
    expect(checkSync(Clock, { maxTime: 1, clockError: 2 }).result).toBe('violation');
  });
});
