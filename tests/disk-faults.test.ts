/**
 * The checker's disk faults (`diskFaults`, CLI `--disk-faults N`; checker/crashes.ts): a crashed
 * server restarts with a torn tail, a corrupted record or an emptied log, and its role's
 * `onRecover` decides. Raft's repair mode keeps every invariant under them; raft's
 * `truncate-on-corruption` (take what could be read as the truth) is caught.
 */
import { describe, expect, it } from 'vitest';
import { checkSync, type CheckOptions } from '../checker/index.ts';
import { main } from '../cli/main.ts';
import { memoryIO } from '../cli/io.ts';
import raft from '../specs/raft/raft.ts';
import { defineProtocol, type AnyRole, type RecoveryDamage } from '../specs/core/index.ts';
import { eventText } from '../traces/event-text.ts';
import { modelForTrace, replayTrace } from '../checker/replay.ts';

const bag1: CheckOptions = { network: 'bag', drop: true, maxInFlight: 1, symmetry: false }; // raft's check defaults turn symmetry on

describe('--disk-faults', () => {
  it('raft with 1 crash and 1 disk fault, bag with loss, ≤ 1 in flight: repair mode keeps every invariant (pinned count)', () => {
    const r = checkSync(raft, { ...bag1, diskFaults: 1 });
    expect(r.result).toBe('ok');
    expect(r.goals.every((g) => g.reached)).toBe(true);
    // 37,783 before lost writes were drawn (a step whose write is lost, then the crash).
    expect(r.stats.distinctStates).toBe(53_248);
  });

  it('draws lost writes: a step that changed durable fields, its messages sent, its write lost; raft detects it and onRecover is told lost-write', () => {
    const server = raft.roles.server as AnyRole;
    const told = new Set<string>();
    const spied = defineProtocol({
      ...raft, variants: undefined,
      roles: { server: { ...server, onRecover: (s: unknown, damage: RecoveryDamage, ctx: never) => (told.add(damage.kind), server.onRecover!(s, damage, ctx)) } },
    });
    const r = checkSync(spied, { ...bag1, diskFaults: 1 });
    expect(r.result).toBe('ok');
    expect([...told].sort()).toEqual(['corrupt-record', 'empty-log', 'lost-write', 'torn-tail']);
  });

  it('raft:undetected-lost-write (a plain log: lostWrites undetected) is caught by a bare check through the checker\'s own lost write', () => {
    const r = checkSync(raft.variant('undetected-lost-write'));
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/election safety/);
    const lost = r.trace!.steps.find((s) => s.event.kind === 'crash' && s.event.lostWrite !== undefined);
    expect(lost).toBeDefined();
    expect(eventText(lost!.event, (id) => `server${id + 1}`)).toMatch(/: vote|requestVote.*; the disk loses that write and server\d crashes$/);
    expect(r.trace!.steps.some((s) => s.event.kind === 'restart' && s.event.damage === 'lost-write')).toBe(true);
  });

  it('a lost-write crash replays from its trace, and a trace naming a step that writes nothing is refused', () => {
    const r = checkSync(raft.variant('undetected-lost-write'));
    if (r.result !== 'violation') throw new Error('expected a violation');
    const at = r.trace!.steps.findIndex((s) => s.event.kind === 'crash' && s.event.lostWrite !== undefined);
    const bad = structuredClone(r.trace!);
    // A timeout by the crashing node's peer is no step of the crashing node.
    const ev = bad.steps[at]!.event as unknown as { node: number; lostWrite: unknown };
    ev.lostWrite = { kind: 'action', node: ev.node === 0 ? 1 : 0, action: 'timeout' };
    const variant = raft.variant('undetected-lost-write');
    expect(replayTrace(modelForTrace(variant, r.trace!), r.trace!).ok).toBe(true);
    expect(replayTrace(modelForTrace(variant, bad), bad).ok).toBe(false);
  });

  it('diskFaults 0 is the world without disk faults (the same count as --crashes 1)', () => {
    expect(checkSync(raft, { ...bag1, crashes: 1, diskFaults: 0 }).stats.distinctStates).toBe(11_875);
  });

  it('pacta check raft --disk-faults 1 exits 0 (small bounds)', async () => {
    const io = memoryIO();
    const code = await main(['check', 'raft', '--disk-faults', '1', '--network', 'bag', '--drop', '--max-in-flight', '1', '--workers', '1', '--json'], io);
    expect({ code, result: (JSON.parse(io.stdout) as { result: string }).result }).toEqual({ code: 0, result: 'ok' });
  });

  it('truncate-on-corruption: a server that lost its vote votes again, through a damaged restart', () => {
    const r = checkSync(raft.variant('truncate-on-corruption'));
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/election safety/);
    const damaged = r.trace!.steps.find((s) => s.event.kind === 'restart' && s.event.damage !== undefined);
    expect(damaged).toBeDefined();
    expect(eventText(damaged!.event, (id) => `server${id + 1}`)).toMatch(/^server\d restarts with damaged durable state \((corrupt-record|empty-log|lost-write)\)$/);
  });
});
