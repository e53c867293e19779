/**
 * History properties inside the model checker: a replicated register whose backup serves
 * stale reads is caught as not linearizable; the primary-only version passes; atomic commit
 * over two-phase states holds for the spec and fails for a broken variant.
 */
import { describe, expect, it } from 'vitest';
import { protocol, t, reachable, linearizable as specLinearizable } from '../specs/core/index.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';
import { checkSync } from './check.ts';
import { atomicCommit, linearizable, operationsOf } from './history-properties.ts';
import type { SequentialModel } from './linearizability/index.ts';

type Op = { kind: 'write'; value: number } | { kind: 'read' };
type Result = { kind: 'ok' } | { kind: 'value'; value: number };

/** The sequential register: reads return the last write (0 initially). */
const register: SequentialModel<number, Op, Result> = {
  name: 'register',
  init: () => 0,
  step: (s, op, out) => {
    if (op.kind === 'write') return { ok: true, next: op.value };
    if (out === undefined) return { ok: true, next: s };
    return out.kind === 'value' && out.value === s ? { ok: true, next: s } : { ok: false };
  },
  readOnly: (op) => op.kind === 'read',
};

/**
 * A register on `replicas` nodes. Node 0 is the primary: it applies writes and copies them to
 * the backups asynchronously. Backups forward writes to the primary (which answers the client
 * through the request ref) and serve reads from their own copy, which may lag.
 */
const OpS = t.union('kind', { write: { value: t.u32 }, read: {} });
const ResultS = t.union('kind', { ok: {}, value: { value: t.u32 } });
const Replicated = (() => {
  const spec = protocol({
    name: 'replicated-register',
    params: { replicas: 1 },
    messages: t.union('kind', { copy: { value: t.u32 }, forward: { client: t.node('client'), id: t.u32, value: t.u32 } }),
    client: { op: OpS, result: ResultS },
  });
  const replica = spec.role(t.u32)({
    count: (p) => p.replicas,
    init: () => 0,
    onMessage: (s, _from, m, out, ctx) => {
      if (m.kind === 'copy') return m.value;
      for (const b of ctx.nodes('replica').slice(1)) out.send(b, { kind: 'copy', value: m.value });
      out.reply({ kind: 'ok' }, { client: m.client, id: m.id });
      return m.value;
    },
    onRequest: (s, req, out, ctx) => {
      if (req.op.kind === 'read') {
        out.reply({ kind: 'value', value: s });
        return s;
      }
      if (ctx.index > 0) {
        out.send(ctx.nodes('replica')[0]!, { kind: 'forward', client: req.client, id: req.id, value: req.op.value });
        return s;
      }
      for (const b of ctx.nodes('replica').slice(1)) out.send(b, { kind: 'copy', value: req.op.value });
      out.reply({ kind: 'ok' });
      return req.op.value;
    },
  });
  return spec.define({
    roles: { replica },
    clients: { count: 2, target: 'replica', ops: () => [{ kind: 'write', value: 1 }, { kind: 'read' }], opsPerClient: 1 },
    properties: () => [
      linearizable(register as SequentialModel<number, unknown, unknown>),
      reachable('a read returns 1', (w) => w.history().some((e) => e.kind === 'return' && (e.result as { value?: number }).value === 1)),
    ],
  });
})();

describe('linearizable() in the checker', () => {
  it('turns the world history into operations (pending ones have unknown output)', () => {
    const h = operationsOf([
      { kind: 'invoke', client: 3, id: 0, op: 'w' },
      { kind: 'invoke', client: 4, id: 0, op: 'r' },
      { kind: 'return', client: 3, id: 0, result: 'ok' },
    ]);
    expect(h.operations).toEqual([
      { id: 0, process: 3, input: 'w', output: 'ok', call: 0, return: 2 },
      { id: 1, process: 4, input: 'r', output: undefined, call: 1, return: Number.POSITIVE_INFINITY },
    ]);
  });

  it('a single primary is linearizable: every reachable history passes', () => {
    const r = checkSync(Replicated, { network: 'bag' });
    expect(r.result).toBe('ok');
    expect(r.goals[0]!.reached).toBe(true);
  });

  it('a backup serving reads is caught: a read returns 0 after a write of 1 completed', () => {
    const r = checkSync(Replicated, { params: { replicas: 2 }, network: 'bag' });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toBe('linearizable (register)');
    const events = r.trace!.steps.map((s) => JSON.stringify(s.event));
    const lastReply = events[events.length - 1]!;
    expect(lastReply).toMatch(/"kind":"reply".*"value":0/);
    expect(events.some((e) => /"kind":"reply".*"kind":"ok"/.test(e))).toBe(true);
  });

  it('a spec can declare linearizable(model) itself (specs/core), with the same verdicts', () => {
    const declared = { ...Replicated, properties: () => [specLinearizable(register as SequentialModel<number, unknown, unknown>)] };
    expect(checkSync(declared, { network: 'bag' }).result).toBe('ok');
    const r = checkSync(declared, { params: { replicas: 2 }, network: 'bag' });
    expect(r.result).toBe('violation');
    if (r.result === 'violation') expect(r.property.name).toBe('linearizable (register)');
    const viaChecker = checkSync(Replicated, { params: { replicas: 2 }, network: 'bag' });
    expect(r.stats.distinctStates).toBe(viaChecker.stats.distinctStates);
  });

  it('atomic commit holds on two-phase and fails on commit-early', () => {
    const property = atomicCommit((w) => ({
      participants: w.nodes('rm').map((id) => {
        const st = w.node<string>(id);
        return { id, vote: st === 'prepared' || st === 'committed' ? 'yes' : null, decision: st === 'committed' ? 'commit' : st === 'aborted' ? 'abort' : null };
      }),
    }));
    const withAtomicCommit = (spec: typeof twoPhase) => ({ ...spec, properties: () => [property] });
    const ok = checkSync(withAtomicCommit(twoPhase), { params: { rms: 3 } });
    expect(ok.result).toBe('ok');
    expect(ok.stats.distinctStates).toBe(288);
    const bad = checkSync(withAtomicCommit(twoPhase.variant('commit-early')), {});
    expect(bad.result).toBe('violation');
    if (bad.result === 'violation') expect(bad.property.name).toBe('atomic commit');
  });
});
