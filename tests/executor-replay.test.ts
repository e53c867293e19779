/**
 * Executor replay: every counterexample of two-phase's broken variants, found by the checker
 * under each network model, replays on node runtimes (memory network in manual delivery,
 * durable logs on disk, simulated clock) with every node's packed state equal to the trace's
 * at every step; so do the checked-in examples of every bundled spec (two-phase, Raft, Raft KV
 * with clients and reads). Tampered traces diverge at the tampered step.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSync } from '../checker/check.ts';
import { replayOnExecutor } from '../impl/replay.ts';
import { loadBundledSpec } from '../specs/catalogue.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';
import raft from '../specs/raft/raft.ts';
import raftKv from '../specs/raft/raft-kv.ts';
import { defineProtocol, invariant, SESSION_IDS, type HistoryEntry, type WorldReader } from '../specs/core/index.ts';
import type { TraceFile } from '../traces/format.ts';

const variants = Object.keys(twoPhase.variants!);
const examples = join(import.meta.dirname, '..', 'traces', 'examples');

function counterexample(variant: string, network: 'set' | 'bag' | 'fifo'): TraceFile {
  const options = variant === 'volatile-rm' ? { crashes: 1, params: { rms: 2 } } : {};
  const r = checkSync(twoPhase.variant(variant), { ...options, network });
  if (r.result !== 'violation' || !('trace' in r) || !r.trace) throw new Error(`${variant}: expected a violation, got ${r.result}`);
  return r.trace;
}

describe('replayOnExecutor', () => {
  it('covers all five broken variants', () => {
    expect(variants.sort()).toEqual(['abort-after-commit', 'blocking', 'commit-early', 'rm-ignores-abort', 'volatile-rm']);
  });

  for (const variant of variants) {
    for (const network of ['set', 'bag', 'fifo'] as const) {
      it(`replays the ${network}-network counterexample of ${variant} with equal node states at every step`, async () => {
        const trace = counterexample(variant, network);
        const r = await replayOnExecutor(twoPhase.variant(variant), trace);
        expect(r).toMatchObject({ ok: true, steps: trace.steps.length - 1 });
        if (!r.ok) return;
        // Every node of every state was compared (4 or 3 nodes per state).
        expect(r.comparisons).toBe(trace.steps.length * trace.nodes.length);
        expect(r.framesDelivered).toBe(trace.steps.filter((s) => s.event.kind === 'deliver').length);
        if (variant === 'volatile-rm') expect(r.recoveries).toBe(1);
        // TM and RMs of the correct roles are durable: each state change is flushed.
        if (variant !== 'volatile-rm') expect(r.durableSaves).toBeGreaterThan(0);
      });
    }
  }

  // Every checked-in example of every bundled spec (two-phase, raft, raft-kv as they land).
  const files = readdirSync(examples).filter((f) => f.endsWith('.json')).sort();
  for (const file of files) {
    it(`replays the checked-in example ${file}`, async () => {
      const trace = JSON.parse(readFileSync(join(examples, file), 'utf8')) as TraceFile;
      const spec = await loadBundledSpec(trace.spec);
      expect(spec, `bundled spec ${trace.spec}`).toBeDefined();
      const r = await replayOnExecutor(trace.variant ? spec!.variant(trace.variant) : spec!, trace, { syncMode: 'none' });
      expect(r).toMatchObject({ ok: true, steps: trace.steps.length - 1 });
      // A disk fault (--disk-faults) is replayed by damaging the node's log file as the trace says:
      // the runtime finds that damage and its role's onRecover decides, as in the model.
      // A lost write is replayed by cutting the step's records from the log at the crash (its high-water
      // mark kept, when the role keeps one: its restart then recovers again and finds the loss).
      if (trace.steps.some((s) => s.event.kind === 'restart' && 'damage' in s.event && s.event.damage !== 'lost-write') && r.ok) expect(r.recoveries).toBeGreaterThanOrEqual(2);
      if (trace.steps.some((s) => s.event.kind === 'crash' && 'lostWrite' in s.event) && r.ok) expect(r.recoveries).toBeGreaterThanOrEqual(1);
    });
  }

  it('replays a lost write under the correct raft servers: the high-water mark finds it, onRecover puts the server in repair mode', async () => {
    // A run of raft to a server in repair mode that still holds a vote: only a lost write gets
    // there (a corrupted or emptied log hands back init, a torn tail is taken as is).
    const toRepair = defineProtocol({
      ...raft, variants: undefined,
      properties: () => [invariant('no server in repair mode holds a vote', (w: WorldReader) => !w.any('server', (s: { repair: unknown; votedFor: unknown }) => s.repair !== null && s.votedFor !== null))],
    });
    const found = checkSync(toRepair, { diskFaults: 1, network: 'bag', drop: true, maxInFlight: 1, symmetry: false });
    expect(found.result).toBe('violation');
    const trace = (found as { trace: TraceFile }).trace;
    const at = trace.steps.findIndex((s) => s.event.kind === 'crash' && 'lostWrite' in s.event);
    expect(at).toBeGreaterThan(0);
    expect(trace.steps.at(-1)!.event).toMatchObject({ kind: 'restart', damage: 'lost-write' });
    const r = await replayOnExecutor(raft, trace, { syncMode: 'none' });
    expect(r).toMatchObject({ ok: true, steps: trace.steps.length - 1, recoveries: 2 });
  });

  it('replays a restarted client (--client-restarts): the new client registers an incarnation and its put is applied under the new ids', async () => {
    // A run of raft-kv to a put of the restarted client's incarnation answered: a probe "invariant" that says it never is.
    const answered = (w: WorldReader) => (w.history() as readonly HistoryEntry[]).some((e) => e.kind === 'return' && e.id > SESSION_IDS);
    const probe = { ...raftKv, properties: () => [invariant("no restarted client's request is answered", (w: WorldReader) => !answered(w))] };
    const r = checkSync(probe, { clientRestarts: 1, params: { servers: 2, clients: 1, opsPerClient: 2, keys: 1, values: 1 } });
    expect(r.result).toBe('violation');
    const trace = (r as { trace: TraceFile }).trace;
    expect(trace.steps.some((s) => s.event.kind === 'invoke' && (s.event.op as { kind: string }).kind === 'register')).toBe(true);
    const replay = await replayOnExecutor(raftKv, trace, { syncMode: 'none' });
    expect(replay).toMatchObject({ ok: true, steps: trace.steps.length - 1 });
  });

  it('reports a tampered node state at the step it was changed, naming the node', async () => {
    const trace = structuredClone(counterexample('volatile-rm', 'bag'));
    const crashAt = trace.steps.findIndex((s) => s.event.kind === 'crash');
    const node = trace.steps[crashAt]!.event.node as number;
    // Claim the crashed RM kept its state: the executor recovers 'working' from an empty log.
    const before = trace.steps[crashAt - 1]!.state.nodes[node]!.state;
    expect(before).not.toBe('working');
    trace.steps[crashAt]!.state.nodes[node]!.state = before;
    const r = await replayOnExecutor(twoPhase.variant('volatile-rm'), trace, { syncMode: 'none' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.divergence).toMatchObject({ step: crashAt, node: trace.nodes[node], reason: 'state differs', expected: before, got: 'working' });
    expect(r.divergence.event).toMatch(/^rm\d crashes/);
  });

  it('reports a delivery of a message that was never sent', async () => {
    const trace = structuredClone(counterexample('commit-early', 'bag'));
    const at = trace.steps.findIndex((s) => s.event.kind === 'deliver');
    trace.steps[at]!.event = { ...trace.steps[at]!.event, msg: { kind: 'abort' } };
    const r = await replayOnExecutor(twoPhase.variant('commit-early'), trace, { syncMode: 'none' });
    expect(r).toMatchObject({ ok: false, divergence: { step: at, reason: 'the executor has no such message in flight' } });
  });

  it('reports an action that is not enabled, and a claim about messages in flight that does not hold', async () => {
    const trace = structuredClone(counterexample('abort-after-commit', 'bag'));
    const bad = structuredClone(trace);
    bad.steps[1]!.event = { kind: 'action', node: 0, action: 'commit' }; // no RM has prepared yet
    const r1 = await replayOnExecutor(twoPhase.variant('abort-after-commit'), bad, { syncMode: 'none' });
    expect(r1).toMatchObject({ ok: false, divergence: { step: 1, reason: 'the action is not enabled on the executor' } });

    const extra = structuredClone(trace);
    extra.steps[1]!.state.network.push({ from: 0, to: 1, msg: { kind: 'commit' }, count: 1 });
    const r2 = await replayOnExecutor(twoPhase.variant('abort-after-commit'), extra, { syncMode: 'none' });
    expect(r2).toMatchObject({ ok: false, divergence: { step: 1 } });
    if (!r2.ok) expect(r2.divergence.reason).toMatch(/^messages in flight differ \(bag network\)/);
  });

  it('rejects a trace whose nodes or variant do not fit the protocol', async () => {
    const trace = counterexample('commit-early', 'set');
    await expect(replayOnExecutor(twoPhase, trace)).rejects.toMatchObject({ code: 'replayOnExecutor/wrong-variant' });
    await expect(replayOnExecutor(twoPhase.variant('commit-early'), { ...trace, params: { rms: 2 } })).rejects.toMatchObject({ code: 'replayOnExecutor/wrong-nodes' });
  });
});
