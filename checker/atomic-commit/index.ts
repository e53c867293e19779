/** Atomic commit: agreement, validity, termination and irrevocability over plain run data. */
export { checkAtomicCommit, checkAtomicCommitEvents, commitRunFromEvents } from './atomic-commit.ts';
export type {
  AtomicCommitProperty,
  AtomicCommitResult,
  AtomicCommitViolation,
  CommitDecision,
  CommitEvent,
  CommitParticipant,
  CommitRun,
  CommitVote,
  ParticipantId,
} from './atomic-commit.ts';
