/**
 * Paxos Commit: the TLC-shaped model's counts equal TLC's on PaxosCommit.tla (small
 * configurations here; PaxosCommit.cfg's 1,321,761 states in bench/commit-tla.ts --full), the
 * actor protocol's pinned counts, its goals (the commit surviving a crashed coordinator), the
 * broken acceptor caught, and the shared acceptor rules.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSync } from '../../checker/index.ts';
import { defineProtocol, type WorldReader } from '../core/index.ts';
import { accept, initialInstance, minimalMajorities, promise, valueToPropose } from './paxos.ts';
import paxosCommit from './paxos-commit.ts';
import paxosCommitTla, { describeMessages } from './paxos-commit-tla.ts';

describe('paxos-commit-tla matches TLC on PaxosCommit.tla', () => {
  // TLC 2.19, 3 acceptors with majorities of 2 (as PaxosCommit.cfg): distinct states and depth.
  const tlc: [rms: number, maxBallot: number, distinct: number, depth: number][] = [
    [1, 1, 1_461, 15],
    [2, 0, 545, 12],
  ];
  for (const [rms, maxBallot, distinct, depth] of tlc) {
    it(`${rms} RM(s), ballots 0..${maxBallot}: ${distinct} states, depth ${depth}`, () => {
      const r = checkSync(paxosCommitTla, { params: { rms, maxBallot } });
      expect(r.result).toBe('ok');
      expect([r.stats.distinctStates, r.stats.depth]).toEqual([distinct, depth]);
      expect(r.goals.every((g) => g.reached)).toBe(true);
    });
  }

  it('keeps msgs as a bit set that describeMessages decodes', () => {
    const params = { rms: 1, acceptors: 3, maxBallot: 1 };
    const ctx = { params } as unknown as Parameters<NonNullable<typeof paxosCommitTla.roles.model>['init']>[0];
    const model = paxosCommitTla.roles.model!;
    const noOut = { send() {}, broadcast() {}, reply() {}, now: () => 0, trueTime: () => ({ earliest: 0, latest: 0 }) };
    let s = model.init(ctx);
    s = model.actions!.rmPrepare!.do(s, noOut, ctx, 0);
    s = model.actions!.phase1a!.do(s, noOut, ctx, { ins: 0, bal: 1 });
    expect(describeMessages(params, s.msgs)).toEqual(['phase1a ins=0 bal=1', 'phase2a ins=0 bal=0 val=prepared']);
  });
});

describe('paxos-commit', () => {
  it('1 RM: every goal reached, the count pinned', () => {
    const r = checkSync(paxosCommit, { params: { rms: 1 } });
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(12_012);
    expect(r.goals.every((g) => g.reached)).toBe(true);
  });

  it('the commit survives a crashed coordinator: a backup leader commits while leader 1 is down', () => {
    // Reachability shown as the shortest violation of its negation (BFS), one crash allowed.
    const neverSurvives = defineProtocol({
      ...paxosCommit,
      properties: () => [
        {
          kind: 'invariant',
          name: 'no backup leader commits while leader 1 is crashed',
          check: (w: WorldReader) =>
            !(w.crashed(w.nodes('leader')[0]!) && w.states<{ decision: string }>('leader').slice(1).some((l) => l.decision === 'commit')),
        },
      ],
    });
    const r = checkSync(neverSurvives, { params: { rms: 1 }, crashes: 1 });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    const events = r.trace!.steps.slice(1).map((s) => s.event.kind);
    expect(events).toContain('crash');
    expect(events.length).toBe(13);
  });

  it('accept-below-promise is caught: an instance chooses two votes', () => {
    const r = checkSync(paxosCommit.variant('accept-below-promise'), {});
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/^consensus/);
    expect(r.trace!.steps.length - 1).toBe(11);
  });

});

describe('paxos.ts acceptor rules', () => {
  it('promise only above, accept at or above the promise; the leader proposes the highest reported vote or aborted', () => {
    expect(promise(initialInstance, 1)).toEqual({ mbal: 1, bal: -1, val: 'none' });
    expect(promise({ mbal: 1, bal: -1, val: 'none' }, 1)).toBeNull();
    expect(accept({ mbal: 1, bal: -1, val: 'none' }, 0, 'prepared')).toBeNull();
    expect(accept(initialInstance, 0, 'prepared')).toEqual({ mbal: 0, bal: 0, val: 'prepared' });
    // The broken rule (the accept-below-promise variant) accepts below its promise and keeps the promise.
    expect(accept({ mbal: 1, bal: -1, val: 'none' }, 0, 'prepared', { acceptOnlyAtPromise: false })).toEqual({ mbal: 1, bal: 0, val: 'prepared' });
    const same = { mbal: 1, bal: 1, val: 'aborted' as const };
    expect(accept(same, 1, 'aborted')).toBe(same);
    expect(valueToPropose([{ bal: -1, val: 'none' }, { bal: -1, val: 'none' }])).toBe('aborted');
    expect(valueToPropose([{ bal: 0, val: 'prepared' }, { bal: -1, val: 'none' }])).toBe('prepared');
    expect(valueToPropose([{ bal: 0, val: 'prepared' }, { bal: 1, val: 'aborted' }])).toBe('aborted');
    expect(minimalMajorities(3)).toEqual([[0, 1], [0, 2], [1, 2]]);
    expect(minimalMajorities(5)).toHaveLength(10);
  });
});

describe('paxos-commit traces', () => {
  it('every variant has its minimized trace in traces/examples (tests/traces-replay.test.ts replays them)', () => {
    for (const v of Object.keys(paxosCommit.variants ?? {})) {
      expect(existsSync(join(import.meta.dirname, '..', '..', 'traces', 'examples', `paxos-commit.${v}.json`))).toBe(true);
    }
  });
});
