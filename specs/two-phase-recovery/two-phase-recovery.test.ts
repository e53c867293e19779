/**
 * two-phase-recovery and its TLC-shaped sibling: pinned counts (a count is a regression test of
 * the world's and the spec's semantics), the goals reached (blocking included), each broken
 * variant caught with a short trace, and the spec's own invariants agreeing with the checker's
 * atomic-commit property (checker/atomic-commit) on the same states. two-phase-btm-tla's counts
 * are TLC's on 2PCwithBTM.tla for the model's cfg and the three other failure settings.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atomicCommit, check, checkSync, type CommitRun } from '../../checker/index.ts';
import { defineProtocol, type Protocol, type WorldReader } from '../core/index.ts';
import btm from './two-phase-btm-tla.ts';
import recovery from './two-phase-recovery.ts';

describe('two-phase-btm-tla matches TLC on 2PCwithBTM.tla', () => {
  // TLC 2.19 on 2PCwithBTM.tla, 3 RMs (RMMAYFAIL, TMMAYFAIL): distinct states and depth.
  const tlc: [rmMayFail: boolean, tmMayFail: boolean, distinct: number, depth: number][] = [
    [true, true, 1_245, 15], // the model's 2PCwithBTM.cfg
    [false, true, 453, 15],
    [true, false, 785, 13],
    [false, false, 287, 13],
  ];
  for (const [rmMayFail, tmMayFail, distinct, depth] of tlc) {
    it(`RMMAYFAIL=${rmMayFail} TMMAYFAIL=${tmMayFail}: ${distinct} states, depth ${depth}`, () => {
      const r = checkSync(btm, { params: { rmMayFail, tmMayFail } });
      // Termination (TLA+ <>(all pc = Done) under the module's weak fairness): TLC finds it holds
      // with TMMAYFAIL and violated without (the BTM waits for a hidden TM that never hides).
      expect(r.result).toBe(tmMayFail ? 'ok' : 'violation');
      if (r.result === 'violation') {
        expect(r.property.name).toBe('Termination: every process is done');
        expect(r.trace?.loopStart).toBeDefined();
      }
      expect([r.stats.distinctStates, r.stats.depth]).toEqual([distinct, depth]);
      expect(r.goals.every((g) => g.reached)).toBe(true);
    });
  }
});

describe('two-phase-recovery', () => {
  it('passes with one crash (its checkDefaults), reaching every goal, blocking included', () => {
    const r = checkSync(recovery, {});
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(8_455);
    expect(r.goals.map((g) => [g.name, g.reached])).toEqual([
      ['every participant commits', true],
      ['a participant that voted yes aborts', true],
      ['blocked: every live node waits on a crashed one', true],
      ['the backup resolves a commit while the coordinator is down', true],
      ['the backup takes over: presumed abort recorded while the coordinator is down', true],
    ]);
  });

  it('without a backup, and under other faults: the counts are pinned', () => {
    const counts = [
      checkSync(recovery, { params: { backup: false } }),
      checkSync(recovery, { crashes: 0 }),
      checkSync(recovery, { crashes: 2 }),
      checkSync(recovery, { params: { backup: false }, network: 'bag', drop: true, maxInFlight: 3 }),
    ];
    expect(counts.map((r) => r.result)).toEqual(['ok', 'violation', 'ok', 'ok']);
    // Without crashes the goals that need one are not reached (the bare check crashes one node).
    const noCrash = counts[1]!;
    if (noCrash.result === 'violation') expect(noCrash.property.kind).toBe('reachable');
    expect(counts.map((r) => r.stats.distinctStates)).toEqual([1_444, 1_107, 28_397, 7_363]);
  });

  it('blocking: without a backup, every live node waits on the crashed coordinator in 4 steps', () => {
    // The shortest path to the goal, as a violation of its negation (BFS: shortest).
    const blockedIsUnreachable = defineProtocol({
      ...recovery,
      properties: () => [
        { kind: 'invariant', name: 'never blocked', check: (w: WorldReader) => !(w.all('rm', 'prepared') && w.crashed(w.nodes('coordinator')[0]!)) },
      ],
    });
    const r = checkSync(blockedIsUnreachable, { params: { backup: false } });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.trace!.steps.slice(1).map((s) => s.event.kind === 'action' ? s.event.action : s.event.kind)).toEqual(['start', 'deliver', 'deliver', 'crash']);
  });

  const variants: [name: string, steps: number][] = [
    ['abort-after-prepare', 8],
    ['decision-not-logged', 10],
    ['send-before-record', 8],
  ];
  for (const [name, steps] of variants) {
    it(`${name} is caught by agreement in ${steps} steps`, () => {
      const r = checkSync(recovery.variant(name), {});
      expect(r.result).toBe('violation');
      if (r.result !== 'violation') return;
      expect(r.property.name).toMatch(/^agreement/);
      expect(r.trace!.steps.length - 1).toBe(steps);
    });
  }

  /** The world as checker/atomic-commit reads a run: votes, decisions, the coordinator's (and the backup's) decision. */
  const project = (w: WorldReader): CommitRun => {
    const c = w.states<{ decision: string; votes: readonly number[] }>('coordinator')[0]!;
    const record = w.states<{ record: string }>('backup')[0]?.record ?? 'none';
    const decided = [c.decision, record].filter((d) => d !== 'none');
    return {
      participants: w.nodes('rm').map((id) => {
        const s = w.node<string>(id);
        return {
          id,
          vote: s === 'prepared' || s === 'committed' || c.votes.includes(id) ? 'yes' : null,
          decision: s === 'committed' ? 'commit' : s === 'aborted' ? 'abort' : null,
        };
      }),
      // Two different decisions (log and record) make the run disagree with itself: report the later.
      coordinatorDecision: (decided.at(-1) ?? null) as CommitRun['coordinatorDecision'],
    };
  };
  const withCheckerProperty = (p: Protocol): Protocol => defineProtocol({ ...p, properties: () => [atomicCommit(project)] });

  it("agrees with the checker's atomic-commit property: the spec passes, the variants fail it", async () => {
    expect((await check(withCheckerProperty(recovery), {})).result).toBe('ok');
    for (const [name] of variants) {
      const r = await check(withCheckerProperty(recovery.variant(name)), {});
      expect([name, r.result]).toEqual([name, 'violation']);
    }
  });
});

describe('two-phase-recovery traces', () => {
  it('every variant has its minimized trace in traces/examples (tests/traces-replay.test.ts replays them)', () => {
    for (const v of Object.keys(recovery.variants ?? {})) {
      expect(existsSync(join(import.meta.dirname, '..', '..', 'traces', 'examples', `two-phase-recovery.${v}.json`))).toBe(true);
    }
  });
});
