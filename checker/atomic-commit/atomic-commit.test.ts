import { describe, expect, it } from 'vitest';
import { HistoryCheckerError } from '../history/errors.ts';
import { checkAtomicCommit, checkAtomicCommitEvents, type CommitRun } from './atomic-commit.ts';

const props = (run: CommitRun): string[] => checkAtomicCommit(run).violations.map((v) => v.property);

describe('checkAtomicCommit', () => {
  it('accepts a unanimous commit and an abort after a no vote', () => {
    expect(checkAtomicCommit({ participants: [{ id: 1, vote: 'yes', decision: 'commit' }, { id: 2, vote: 'yes', decision: 'commit' }], complete: true }).ok).toBe(true);
    expect(props({ participants: [{ id: 1, vote: 'yes', decision: 'abort' }, { id: 2, vote: 'no', decision: 'abort' }], coordinatorDecision: 'abort', complete: true })).toEqual([]);
    // undecided participants are fine while the run goes on
    expect(props({ participants: [{ id: 1, vote: 'yes', decision: 'commit' }, { id: 2, vote: 'yes' }] })).toEqual([]);
  });

  it('agreement: no participant commits while another aborts, nor against the coordinator', () => {
    const r = checkAtomicCommit({ participants: [{ id: 'rm1', vote: 'yes', decision: 'commit' }, { id: 'rm2', vote: 'yes', decision: 'abort' }] });
    expect(r.violations).toEqual([{ property: 'agreement', participants: ['rm1', 'rm2'], message: 'rm1 committed while rm2 aborted' }]);
    expect(props({ participants: [{ id: 1, vote: 'yes', decision: 'abort' }], coordinatorDecision: 'commit' })).toEqual(['agreement']);
  });

  it('validity: a commit needs every vote to be yes', () => {
    const r = checkAtomicCommit({ participants: [{ id: 1, vote: 'yes', decision: 'commit' }, { id: 2, vote: 'no' }, { id: 3 }] });
    expect(r.violations).toEqual([{ property: 'validity', participants: [2, 3], message: '1 committed although 2, 3 did not vote yes' }]);
    expect(props({ participants: [{ id: 1, vote: 'no' }], coordinatorDecision: 'commit' })).toEqual(['validity']);
  });

  it('termination: on a complete run with a reliable coordinator everyone decides', () => {
    const run: CommitRun = { participants: [{ id: 1, vote: 'yes', decision: 'commit' }, { id: 2, vote: 'yes' }], complete: true };
    expect(props(run)).toEqual(['termination']);
    expect(props({ ...run, coordinatorReliable: false })).toEqual([]);
    expect(props({ ...run, complete: false })).toEqual([]);
  });

  it('reads recorded events, flagging revoked decisions and a crashed coordinator', () => {
    const ok = checkAtomicCommitEvents([1, 2], [
      { kind: 'vote', participant: 1, vote: 'yes' },
      { kind: 'vote', participant: 2, vote: 'yes' },
      { kind: 'coordinator-decide', decision: 'commit' },
      { kind: 'decide', participant: 1, decision: 'commit' },
      { kind: 'decide', participant: 2, decision: 'commit' },
    ], { complete: true });
    expect(ok.ok).toBe(true);
    const flip = checkAtomicCommitEvents([1], [{ kind: 'vote', participant: 1, vote: 'no' }, { kind: 'decide', participant: 1, decision: 'abort' }, { kind: 'decide', participant: 1, decision: 'commit' }]);
    expect(flip.violations.map((v) => v.property)).toEqual(['irrevocability', 'validity']);
    const crashed = checkAtomicCommitEvents([1, 2], [{ kind: 'vote', participant: 1, vote: 'yes' }, { kind: 'coordinator-crash' }], { complete: true });
    expect(crashed.ok).toBe(true); // blocking 2PC: not a violation without a reliable coordinator
  });

  it('rejects misuse with stable codes', () => {
    expect(() => checkAtomicCommit({ participants: [{ id: 1 }, { id: 1 }] })).toThrow(HistoryCheckerError);
    let code = '';
    try {
      checkAtomicCommitEvents([1], [{ kind: 'vote', participant: 9, vote: 'yes' }]);
    } catch (e) {
      code = (e as HistoryCheckerError).code;
    }
    expect(code).toBe('commitRunFromEvents/unknown-participant');
  });
});
