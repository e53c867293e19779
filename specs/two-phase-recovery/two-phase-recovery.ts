/**
 * Two-phase commit that survives the crash of its coordinator: a durable decision log, a
 * termination protocol for participants left prepared, and an optional backup coordinator.
 *
 * The algorithm (Gray, "Notes on Data Base Operating Systems", 1978; Bernstein, Hadzilacos &
 * Goodman, "Concurrency Control and Recovery in Database Systems", 1987, §7.4-7.5 on the
 * termination protocol and presumed abort; the backup transaction manager of 2PCwithBTM.tla):
 * the coordinator sends PREPARE; a working participant votes yes by forcing a prepared record to
 * its log and answering `vote yes`, and from then on it may neither commit nor abort on its own:
 * it is *uncertain*. A participant that has not voted may abort unilaterally (it answers PREPARE
 * with `vote no`). With every vote yes the coordinator decides commit, otherwise (a no vote, or a
 * timeout) abort; the decision is logged durably *before* it is sent. A crashed coordinator
 * restarts from its log: a logged decision is answered to whoever asks; a transaction without a
 * decision is aborted (presumed abort: no record, no commit).
 *
 * The termination protocol: an uncertain participant that hears nothing times out and asks
 * (`query`) the coordinator and, when there is one, the backup coordinator. With `backup: false`
 * only the coordinator can answer, so while it is down every prepared participant waits: 2PC's
 * blocking. With `backup: true` the decision is logged at the backup instead, as a write-once
 * record (the first decision written wins): the coordinator proposes its decision there and sends
 * to the participants only what the backup recorded; a participant's query to the backup is
 * answered from the record, or, when nothing is recorded yet, the backup takes over and records
 * abort (a presumed abort that fences the coordinator: its later proposal of commit is answered
 * with abort). So a coordinator crash no longer blocks anyone, but the backup's does; Paxos Commit
 * (specs/paxos-commit) replaces the single record by consensus among 2F+1 acceptors. This is the
 * shape of the real systems' recovery: CockroachDB's transaction record (a pusher aborts an
 * abandoned transaction by writing ABORTED into it), Vitess's metadata manager and Citus's
 * pg_dist_transaction (a recovery daemon reads the durable decision; no record means abort).
 *
 * Granularity. One transaction; each handler or action is one atomic step. A participant's vote
 * (its prepared record and its answer) is one step, as is the coordinator's decision (its log
 * write and its broadcast): a crash falls between steps, so "logged before sent" is the `durable`
 * declaration, and the executor forces the durable fields to disk before sending. The checks
 * crash one node by default (`checkDefaults: { crashes: 1 }`) under the set network (a message
 * sent may be delivered any number of times, late, or to a restarted node).
 *
 * Blocking. "A prepared participant eventually decides when the coordinator (or its recovery)
 * eventually runs" is a liveness property, which pacta does not check yet (it waits for
 * `eventually`/`leadsTo`). The safety side is checked; blocking is shown as a reachable goal:
 * a state where every live node waits on a crashed one (the coordinator down, or with a backup
 * the backup down while the coordinator waits for its record, and every participant prepared).
 *
 * Cross-check: `two-phase-btm-tla.ts` is shaped like 2PCwithBTM.tla, whose 1,245 states TLC
 * counts. Not modeled: several transactions, the participants' data and locks, cooperative
 * termination among participants, heuristic decisions, a backup that fails over to another.
 */
import { add, invariant, protocol, reachable, t, type WorldReader } from '../core/index.ts';

const Decision = t.enum('none', 'commit', 'abort');
type Decision = typeof Decision.__type;

const Msg = t.union('kind', {
  /** Coordinator → participant: PREPARE. */
  prepare: {},
  /** Participant → coordinator: the vote. */
  vote: { yes: t.bool },
  /** Coordinator or backup → participant: the outcome. */
  decision: { commit: t.bool },
  /** Participant → coordinator and backup (termination protocol): what was decided? */
  query: {},
  /** Coordinator → backup: record this decision unless one is recorded. */
  record: { commit: t.bool },
  /** Backup → coordinator: the recorded decision. */
  recorded: { commit: t.bool },
});
type Msg = typeof Msg.__type;

const CoordinatorState = t.struct({
  /** The logged decision (durable): what the coordinator tells anyone who asks. */
  decision: Decision,
  /** idle (not started, or restarted without a decision), collecting votes. */
  phase: t.enum('idle', 'collecting'),
  /** With a backup: the decision proposed to the backup, awaiting its record ('none': not waiting). */
  proposed: Decision,
  /** The participants that voted yes. */
  votes: t.set(t.node('rm')),
});
type CoordinatorState = typeof CoordinatorState.__type;

const RmState = t.enum('working', 'prepared', 'committed', 'aborted');
type RmState = typeof RmState.__type;

const BackupState = t.struct({
  /** The write-once decision record (durable). */
  record: Decision,
});
type BackupState = typeof BackupState.__type;

const spec = protocol({
  name: 'two-phase-recovery',
  doc: '2PC with a durable decision log, presumed abort, a termination protocol and an optional backup coordinator.',
  params: { rms: { default: 2, min: 1, max: 255 }, backup: true as boolean },
  messages: Msg,
});

const decisionOf = (commit: boolean): Decision => (commit ? 'commit' : 'abort');

interface Send {
  send(to: number, m: Msg): void;
  broadcast(role: string, m: Msg): void;
}

/**
 * The coordinator decides `d`: without a backup it logs `d` and sends it (one step: logged before
 * sent); with a backup it proposes `d` to the backup's record and waits for what was recorded.
 */
function decide(s: CoordinatorState, d: 'commit' | 'abort', out: Send, backups: readonly number[]): CoordinatorState {
  if (backups.length > 0) {
    out.send(backups[0]!, { kind: 'record', commit: d === 'commit' });
    return { ...s, proposed: d };
  }
  out.broadcast('rm', { kind: 'decision', commit: d === 'commit' });
  return { ...s, decision: d };
}

const coordinator = spec.role(CoordinatorState)({
  count: 1,
  // The decision log. Votes, phase and a pending proposal are volatile: a restarted coordinator
  // has only its log (presumed abort does the rest).
  durable: ['decision'],
  init: () => ({ decision: 'none', phase: 'idle', proposed: 'none', votes: [] }),
  onMessage: (s, from, m, out, ctx) => {
    switch (m.kind) {
      case 'vote':
        if (s.decision !== 'none' || s.proposed !== 'none' || s.phase !== 'collecting') return s;
        if (!m.yes) return decide(s, 'abort', out, ctx.nodes('backup'));
        return s.votes.includes(from) ? s : { ...s, votes: add(s.votes, from) };
      case 'recorded': {
        // The backup's record is the decision, whatever this coordinator proposed (or forgot).
        const d = decisionOf(m.commit);
        if (s.decision === d) return s;
        out.broadcast('rm', { kind: 'decision', commit: m.commit });
        return { ...s, decision: d, proposed: 'none' };
      }
      case 'query':
        if (s.decision !== 'none') {
          out.send(from, { kind: 'decision', commit: s.decision === 'commit' });
          return s;
        }
        // Presumed abort: a restarted coordinator (idle, no decision logged) aborts what it does not know.
        if (s.phase === 'idle' && s.proposed === 'none') return decide(s, 'abort', out, ctx.nodes('backup'));
        return s;
      case 'prepare':
      case 'decision':
      case 'record':
        return s;
    }
  },
  actions: {
    /** Begin: send PREPARE to every participant. */
    start: {
      when: (s) => s.phase === 'idle' && s.decision === 'none' && s.proposed === 'none',
      do: (s, out) => {
        out.broadcast('rm', { kind: 'prepare' });
        return { ...s, phase: 'collecting' };
      },
    },
    /** Every participant voted yes. */
    commit: {
      when: (s, ctx) => s.phase === 'collecting' && s.decision === 'none' && s.proposed === 'none' && s.votes.length === ctx.count('rm'),
      do: (s, out, ctx) => decide(s, 'commit', out, ctx.nodes('backup')),
      timerMs: [1, 2],
    },
    /** Timeout: a vote is missing (or, after a restart, presumed abort). */
    abort: {
      when: (s) => s.decision === 'none' && s.proposed === 'none',
      do: (s, out, ctx) => decide(s, 'abort', out, ctx.nodes('backup')),
      timerMs: [150, 250],
    },
    /** With a backup: ask again for the record (the request or the answer may have been lost to a crash). */
    retryRecord: {
      when: (s) => s.decision === 'none' && s.proposed !== 'none',
      do: (s, out, ctx) => {
        out.send(ctx.nodes('backup')[0]!, { kind: 'record', commit: s.proposed === 'commit' });
        return s;
      },
      timerMs: [20, 40],
    },
  },
});

const rm = spec.role(RmState)({
  count: (p) => p.rms,
  symmetric: true,
  // The participant's log: its prepared record and its outcome survive a crash.
  durable: true,
  init: () => 'working',
  onMessage: (s, from, m, out) => {
    switch (m.kind) {
      case 'prepare':
        // Vote yes by entering the prepared state (forced to the log before the vote is sent).
        if (s === 'working') {
          out.send(from, { kind: 'vote', yes: true });
          return 'prepared';
        }
        if (s !== 'committed') out.send(from, { kind: 'vote', yes: s === 'prepared' });
        return s;
      case 'decision':
        if (s === 'working' || s === 'prepared') return m.commit ? 'committed' : 'aborted';
        return s;
      case 'vote':
      case 'query':
      case 'record':
      case 'recorded':
        return s;
    }
  },
  actions: {
    /** Unilateral abort, allowed only before voting (a local deadlock, a lock timeout). */
    chooseToAbort: {
      when: (s) => s === 'working',
      do: () => 'aborted',
    },
    /** The termination protocol: uncertain for too long, ask the coordinator and the backup. */
    query: {
      when: (s) => s === 'prepared',
      do: (s, out) => {
        out.broadcast('coordinator', { kind: 'query' });
        out.broadcast('backup', { kind: 'query' });
        return s;
      },
      timerMs: [40, 60],
    },
  },
});

const backup = spec.role(BackupState)({
  count: (p) => (p.backup ? 1 : 0),
  durable: true,
  init: () => ({ record: 'none' }),
  onMessage: (s, from, m, out) => {
    switch (m.kind) {
      case 'record': {
        // Write-once: the first decision recorded wins; every proposal is answered with it.
        const record = s.record === 'none' ? decisionOf(m.commit) : s.record;
        out.send(from, { kind: 'recorded', commit: record === 'commit' });
        return record === s.record ? s : { record };
      }
      case 'query': {
        // Take over: nothing recorded means nothing committed yet, so record (presumed) abort.
        const record = s.record === 'none' ? 'abort' : s.record;
        out.send(from, { kind: 'decision', commit: record === 'commit' });
        return record === s.record ? s : { record };
      }
      case 'prepare':
      case 'vote':
      case 'decision':
      case 'recorded':
        return s;
    }
  },
});

// ------------------------------------------------------------------------------ properties

const coordinatorOf = (w: WorldReader): CoordinatorState => w.states<CoordinatorState>('coordinator')[0]!;
const recordOf = (w: WorldReader): Decision => w.states<BackupState>('backup')[0]?.record ?? 'none';
const rmDecision = (s: RmState): Decision => (s === 'committed' ? 'commit' : s === 'aborted' ? 'abort' : 'none');

/** Every decision anyone holds: the participants', the coordinator's log, the backup's record. */
function decisions(w: WorldReader): Decision[] {
  return [...w.states<RmState>('rm').map(rmDecision), coordinatorOf(w).decision, recordOf(w)];
}

/** Atomic commit (checker/atomic-commit's agreement and validity, over the world). */
const atomicCommit = [
  invariant('agreement: no participant, log or record decides differently from another', (w) => {
    const ds = decisions(w);
    return !(ds.includes('commit') && ds.includes('abort'));
  }),
  invariant('validity: commit only if every participant voted yes', (w) =>
    !decisions(w).includes('commit') || w.all<RmState>('rm', (s) => s === 'prepared' || s === 'committed')),
];

/**
 * Every live node waits on a crashed one: every participant is prepared (uncertain), and the node
 * that holds the decision is down: the coordinator without a backup, or the backup while the
 * coordinator waits for its record. The liveness property to come ("a prepared participant
 * eventually decides once the coordinator or its recovery runs") is violated exactly by staying here.
 */
function blocked(w: WorldReader): boolean {
  if (!w.all<RmState>('rm', 'prepared')) return false;
  const [c] = w.nodes('coordinator');
  const [b] = w.nodes('backup');
  if (b === undefined) return w.crashed(c!) && coordinatorOf(w).decision === 'none';
  return w.crashed(b) && !w.crashed(c!) && coordinatorOf(w).proposed !== 'none' && recordOf(w) === 'none';
}

export default spec.define({
  roles: { coordinator, rm, backup },
  checkDefaults: { crashes: 1 },
  properties: (p) => [
    ...atomicCommit,
    reachable('every participant commits', (w) => w.all<RmState>('rm', 'committed')),
    reachable('a participant that voted yes aborts', (w) =>
      w.nodes('rm').some((id) => w.node<RmState>(id) === 'aborted' && coordinatorOf(w).votes.includes(id))),
    reachable('blocked: every live node waits on a crashed one', blocked),
    ...(p.backup
      ? [
          reachable('the backup resolves a commit while the coordinator is down', (w) =>
            w.crashed(w.nodes('coordinator')[0]!) && coordinatorOf(w).decision === 'none' && w.any<RmState>('rm', 'committed')),
          reachable('the backup takes over: presumed abort recorded while the coordinator is down', (w) =>
            w.crashed(w.nodes('coordinator')[0]!) && recordOf(w) === 'abort' && w.any<RmState>('rm', 'aborted')),
        ]
      : [
          reachable('a restarted coordinator answers from its log', (w) =>
            coordinatorOf(w).phase === 'idle' && coordinatorOf(w).decision !== 'none' && coordinatorOf(w).votes.length === 0 && w.any<RmState>('rm', 'prepared')),
        ]),
  ],
  variants: {
    'abort-after-prepare': {
      doc:
        'A participant aborts on its own after voting yes: the coordinator commits on its vote, so one participant ' +
        'commits while another aborted. MySQL rolled back a prepared XA transaction when its client disconnected (bug ' +
        '#12161, fixed in 5.7.7 by WL#6860), as did MariaDB until MDEV-742 (10.5); lock and transaction timeouts that ' +
        'also fire on prepared transactions are the same bug.',
      roles: { rm: { actions: { chooseToAbort: { when: (s) => s === 'working' || s === 'prepared' } } } },
    },
    'decision-not-logged': {
      doc:
        'The coordinator sends its decision without logging it (decision is volatile): after a crash (--crashes 1) the ' +
        'restarted coordinator knows nothing, presumes abort, and aborts a transaction some participants already ' +
        'committed. Needs the coordinator to be the only log (backup=false).',
      expose: { params: { backup: false }, options: { crashes: 1 } },
      roles: { coordinator: { durable: undefined } },
    },
    'send-before-record': {
      doc:
        'With a backup, the coordinator sends its decision to the participants at the same time as it proposes it to the ' +
        "backup's record, instead of waiting for what was recorded: a participant that timed out meanwhile made the backup " +
        'record abort, so one participant commits (told by the coordinator) while another aborts (told by the backup).',
      roles: {
        coordinator: {
          actions: {
            commit: {
              do: (s, out, ctx) => {
                out.broadcast('rm', { kind: 'decision', commit: true });
                return decide({ ...s, decision: 'commit' }, 'commit', out, ctx.nodes('backup'));
              },
            },
          },
        },
      },
    },
  },
});
