/**
 * Clients in the world: invocations travel as requests through the modeled network, servers
 * answer with `out.reply` (now, or later with the request ref), and the history records every
 * invocation and return in order.
 */
import { describe, expect, it } from 'vitest';
import { invariant, protocol, reachable, t, type RequestRef } from '../specs/core/index.ts';
import { checkSync } from './check.ts';
import { Model } from './model.ts';
import { normalizeOptions } from './options.ts';
import type { HistoryEvent, WorldState } from './world.ts';

const Op = t.union('kind', { write: { value: t.u32 }, read: {} });
const Result = t.union('kind', { ok: {}, value: { value: t.u32 } });

/** A register on one server that answers reads at once and acknowledges writes a step later. */
function register(opts: { deferWrites: boolean }) {
  const spec = protocol({ name: 'register', params: { clients: 2 }, messages: t.union('kind', { nothing: {} }), client: { op: Op, result: Result } });
  const server = spec.role(t.struct({ value: t.u32, ack: t.option(t.struct({ client: t.node('client'), id: t.u32 })) }))({
    count: 1,
    init: () => ({ value: 0, ack: null }),
    onRequest: (s, req, out) => {
      if (req.op.kind === 'read') {
        out.reply({ kind: 'value', value: s.value });
        return s;
      }
      if (!opts.deferWrites) {
        out.reply({ kind: 'ok' });
        return { ...s, value: req.op.value };
      }
      return { value: req.op.value, ack: { client: req.client, id: req.id } };
    },
    actions: {
      acknowledge: {
        when: (s) => s.ack !== null,
        do: (s, out) => {
          out.reply({ kind: 'ok' }, s.ack as RequestRef);
          return { ...s, ack: null };
        },
      },
    },
  });
  return spec.define({
    roles: { server },
    clients: { count: (p) => p.clients, target: 'server', ops: () => [{ kind: 'write', value: 1 }, { kind: 'read' }], opsPerClient: 1 },
    properties: () => [
      invariant('every return follows its invocation', (w) => {
        const h = w.history() as HistoryEvent[];
        return h.every((e, i) => e.kind === 'invoke' || h.slice(0, i).some((x) => x.kind === 'invoke' && x.client === e.client && x.id === e.id));
      }),
      reachable('a read returns 1', (w) => (w.history() as HistoryEvent[]).some((e) => e.kind === 'return' && (e.result as { value?: number }).value === 1)),
    ],
  });
}

describe('clients', () => {
  it('record invocations and returns through the network', () => {
    const r = checkSync(register({ deferWrites: false }), {});
    expect(r.result).toBe('ok');
    expect(r.goals[0]!.reached).toBe(true);
    expect(r.stats.distinctStates).toMatchInlineSnapshot(`173`);
  });

  it('servers may reply later through a request ref kept in state', () => {
    const r = checkSync(register({ deferWrites: true }), {});
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBeGreaterThan(checkSync(register({ deferWrites: false }), {}).stats.distinctStates);
  });

  it('a full run: each client invokes once and gets its answer', () => {
    const spec = register({ deferWrites: true });
    const model = new Model(spec, normalizeOptions(spec, { network: 'bag' }));
    let state: WorldState = model.world.initial();
    // Follow the first successor until quiescent: the history must be complete and well-formed.
    for (let i = 0; i < 50; i++) {
      let next: WorldState | undefined;
      model.world.successors(state, (s) => {
        next = s;
        return true;
      });
      if (!next) break;
      state = next;
    }
    const kinds = state.history.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'invoke')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'return')).toHaveLength(2);
    expect(state.net).toHaveLength(0);
    const json = model.world.toJSON(state);
    expect(json.history).toHaveLength(4);
  });

  it('lost replies leave operations pending forever (bag network with drop)', () => {
    const r = checkSync(register({ deferWrites: false }), { network: 'bag', drop: true });
    expect(r.result).toBe('ok');
  });
});
