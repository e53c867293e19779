/**
 * Atomic commit (two-phase commit and its relatives, after Gray and Lamport's "Consensus on
 * Transaction Commit") as a property over plain data: what each participant voted and decided.
 * The same check serves a model state (map node states to a {@link CommitRun}) and a recorded
 * history (fold its events with {@link commitRunFromEvents}).
 *
 * Properties:
 * - agreement: all participants that decided (and the coordinator, if it decided) decided the same;
 * - validity: a commit only if every participant voted yes;
 * - termination (liveness, checked only on complete runs with a reliable coordinator): every
 *   participant decided;
 * - irrevocability (from events only): no participant changes its vote or its decision.
 */
import { HistoryCheckerError } from '../history/errors.ts';

/** A participant's vote; `null` (or absent) when it has not voted. */
export type CommitVote = 'yes' | 'no' | null;
/** A decision; `null` (or absent) when not decided yet. */
export type CommitDecision = 'commit' | 'abort' | null;
/** A participant (resource manager) id. */
export type ParticipantId = string | number;

/** One participant's part of a run. */
export interface CommitParticipant {
  readonly id: ParticipantId;
  readonly vote?: CommitVote;
  readonly decision?: CommitDecision;
}

/** A 2PC-style run, as plain data. */
export interface CommitRun {
  readonly participants: readonly CommitParticipant[];
  /** The coordinator's decision, when it has one (a transaction manager's state). */
  readonly coordinatorDecision?: CommitDecision;
  /** The run is over: nothing can happen any more (a terminal state, a finished history). */
  readonly complete?: boolean;
  /** The coordinator never crashed or stopped (default true). Termination needs it. */
  readonly coordinatorReliable?: boolean;
}

/** The properties of atomic commit. */
export type AtomicCommitProperty = 'agreement' | 'validity' | 'termination' | 'irrevocability';

/** A violated property, with the participants that show it. */
export interface AtomicCommitViolation {
  readonly property: AtomicCommitProperty;
  readonly participants: readonly ParticipantId[];
  readonly message: string;
}

/** The result of {@link checkAtomicCommit}. */
export interface AtomicCommitResult {
  readonly ok: boolean;
  readonly violations: readonly AtomicCommitViolation[];
}

const list = (ids: readonly ParticipantId[]): string => ids.map(String).join(', ');

/** Checks agreement, validity and (on complete runs with a reliable coordinator) termination. */
export function checkAtomicCommit(run: CommitRun, extra: readonly AtomicCommitViolation[] = []): AtomicCommitResult {
  const seen = new Set<ParticipantId>();
  for (const p of run.participants) {
    if (seen.has(p.id)) throw new HistoryCheckerError('checkAtomicCommit/duplicate-participant', `participant ${String(p.id)} appears twice`);
    seen.add(p.id);
  }
  const violations: AtomicCommitViolation[] = [...extra];
  const committed = run.participants.filter((p) => p.decision === 'commit').map((p) => p.id);
  const aborted = run.participants.filter((p) => p.decision === 'abort').map((p) => p.id);
  const coordinator = run.coordinatorDecision ?? null;

  if (committed.length > 0 && aborted.length > 0) {
    violations.push({ property: 'agreement', participants: [...committed, ...aborted], message: `${list(committed)} committed while ${list(aborted)} aborted` });
  } else if (coordinator !== null && (coordinator === 'commit' ? aborted : committed).length > 0) {
    const others = coordinator === 'commit' ? aborted : committed;
    violations.push({ property: 'agreement', participants: others, message: `the coordinator decided ${coordinator} but ${list(others)} decided ${coordinator === 'commit' ? 'abort' : 'commit'}` });
  }

  if (committed.length > 0 || coordinator === 'commit') {
    const notYes = run.participants.filter((p) => p.vote !== 'yes').map((p) => p.id);
    if (notYes.length > 0) {
      const who = committed.length > 0 ? list(committed) : 'the coordinator';
      violations.push({ property: 'validity', participants: notYes, message: `${who} committed although ${list(notYes)} did not vote yes` });
    }
  }

  if (run.complete && (run.coordinatorReliable ?? true)) {
    const undecided = run.participants.filter((p) => (p.decision ?? null) === null).map((p) => p.id);
    if (undecided.length > 0) {
      violations.push({ property: 'termination', participants: undecided, message: `the run is over with a reliable coordinator, but ${list(undecided)} never decided` });
    }
  }
  return { ok: violations.length === 0, violations };
}

/** An event of a recorded run. */
export type CommitEvent =
  | { readonly kind: 'vote'; readonly participant: ParticipantId; readonly vote: 'yes' | 'no' }
  | { readonly kind: 'decide'; readonly participant: ParticipantId; readonly decision: 'commit' | 'abort' }
  | { readonly kind: 'coordinator-decide'; readonly decision: 'commit' | 'abort' }
  | { readonly kind: 'coordinator-crash' };

/**
 * Folds a recorded run's events into a {@link CommitRun} (the latest vote and decision of each
 * participant), noting every change of a vote or decision as an irrevocability violation.
 * `participants` lists everyone, so that those who never voted are known.
 */
export function commitRunFromEvents(
  participants: readonly ParticipantId[],
  events: readonly CommitEvent[],
  options: { readonly complete?: boolean } = {},
): { run: CommitRun; violations: AtomicCommitViolation[] } {
  const state = new Map<ParticipantId, { vote: CommitVote; decision: CommitDecision }>(participants.map((id) => [id, { vote: null, decision: null }]));
  const violations: AtomicCommitViolation[] = [];
  let coordinatorDecision: CommitDecision = null;
  let reliable = true;
  events.forEach((ev, i) => {
    if (ev.kind === 'coordinator-crash') {
      reliable = false;
      return;
    }
    if (ev.kind === 'coordinator-decide') {
      if (coordinatorDecision !== null && coordinatorDecision !== ev.decision) {
        violations.push({ property: 'irrevocability', participants: [], message: `event ${i}: the coordinator changed its decision from ${coordinatorDecision} to ${ev.decision}` });
      }
      coordinatorDecision = ev.decision;
      return;
    }
    const p = state.get(ev.participant);
    if (!p) throw new HistoryCheckerError('commitRunFromEvents/unknown-participant', `event ${i} names participant ${String(ev.participant)}, not in the list`);
    if (ev.kind === 'vote') {
      if (p.vote !== null && p.vote !== ev.vote) {
        violations.push({ property: 'irrevocability', participants: [ev.participant], message: `event ${i}: ${String(ev.participant)} changed its vote from ${p.vote} to ${ev.vote}` });
      }
      p.vote = ev.vote;
    } else {
      if (p.decision !== null && p.decision !== ev.decision) {
        violations.push({ property: 'irrevocability', participants: [ev.participant], message: `event ${i}: ${String(ev.participant)} changed its decision from ${p.decision} to ${ev.decision}` });
      }
      p.decision = ev.decision;
    }
  });
  return {
    run: {
      participants: participants.map((id) => ({ id, ...state.get(id)! })),
      coordinatorDecision,
      coordinatorReliable: reliable,
      ...(options.complete !== undefined ? { complete: options.complete } : {}),
    },
    violations,
  };
}

/** Checks a recorded run: {@link commitRunFromEvents} then {@link checkAtomicCommit}. */
export function checkAtomicCommitEvents(
  participants: readonly ParticipantId[],
  events: readonly CommitEvent[],
  options: { readonly complete?: boolean } = {},
): AtomicCommitResult {
  const { run, violations } = commitRunFromEvents(participants, events, options);
  return checkAtomicCommit(run, violations);
}
