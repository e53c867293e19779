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
import { eventText } from '../traces/event-text.ts';

const bag1: CheckOptions = { network: 'bag', drop: true, maxInFlight: 1, symmetry: false }; // raft's check defaults turn symmetry on

describe('--disk-faults', () => {
  it('raft with 1 crash and 1 disk fault, bag with loss, ≤ 1 in flight: repair mode keeps every invariant (pinned count)', () => {
    const r = checkSync(raft, { ...bag1, diskFaults: 1 });
    expect(r.result).toBe('ok');
    expect(r.goals.every((g) => g.reached)).toBe(true);
    expect(r.stats.distinctStates).toBe(37_783);
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
    expect(eventText(damaged!.event, (id) => `server${id + 1}`)).toMatch(/^server\d restarts with damaged durable state \((corrupt-record|empty-log)\)$/);
  });
});
