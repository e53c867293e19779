/**
 * Raft consensus (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm",
 * USENIX ATC 2014, Figure 2), cross-checked against Ongaro's raft.tla.
 *
 * N servers (a symmetric role). A follower or candidate whose election timer fires starts an
 * election in the next term and votes for itself; it asks each other server for its vote
 * (retrying until granted) and becomes leader on a majority. A server grants one vote per term,
 * to a candidate whose log is at least as up to date as its own (§5.4.1). A leader appends
 * client values to its log and sends each follower the entries from its nextIndex on (an empty
 * AppendEntries is a heartbeat); a follower accepts them if its log matches at prevIndex,
 * deleting conflicting entries. The leader commits the highest index stored on a majority whose
 * entry is from its current term (§5.4.2), which commits everything before it too.
 *
 * currentTerm, votedFor and the log are durable: with `--crashes N` a server restarts from them
 * (everything else from init), as raft.tla's Restart. A server whose durable state is found
 * damaged (`--disk-faults N` in the checker, a corrupted or emptied log in the executor) rejoins
 * in repair mode (protocol-aware recovery, Alagappan et al., FAST 2018; consensus.ts): it votes
 * for no one and does not campaign until it has heard every other server's term and caught up
 * from a leader. `raft:truncate-on-corruption` is the server that takes what it could read as
 * the truth.
 *
 * Bounds, so that exhaustive search is finite: terms ≤ `maxTerm` (servers start in term 1, as in
 * raft.tla, so `maxTerm: 2` allows one round of elections), logs ≤ `maxLog` entries, values
 * 1..`values`. Messages are bounded by the world: `--network bag --drop --max-in-flight K`
 * (raft.tla's bounded runs constrain the bag of messages the same way).
 *
 * Not modeled: membership changes, log compaction and snapshots, leadership transfer, and clients
 * (see raft-kv.ts for a KV store with clients and reads on top of this core). Pre-vote and
 * check-quorum are modeled in the election model (election.ts, no log), which the
 * `election-storm` variant runs: the storm they prevent is a liveness failure over unbounded
 * terms, which this term-bounded model cannot show.
 * Differences from raft.tla, which change state counts but not the protocol, are listed in
 * consensus.ts and docs/protocols/raft.md.
 */
import { eventually, protocol, reachable, t, type NodeId, type WorldReader } from '../core/index.ts';
import {
  batchOf, correctRules, handleMessage, observeTerm, initialCore, querying, raftMessageKinds, recoverAsIs, recoverServer, rewindToMatch, sendAppend,
  sendRepairQuery, sendRequestVote, serverFields, startElection, type RaftRules,
} from './consensus.ts';
import { electionProperties, electionServer, preVoteMessageKinds, type ElectionParams } from './election.ts';
import { ParamError } from '../core/params.ts';
import { boundRanOut } from './liveness.ts';
import { raftInvariants } from './properties.ts';

/** A log entry: the term it was created in and a client value. */
const Entry = t.struct({ term: t.u32, value: t.u32 });
type Entry = typeof Entry.__type;

/** Figure 2's messages, then the pre-vote pair (sent only by the election model, election.ts). */
const Msg = t.union('kind', { ...raftMessageKinds(Entry), ...preVoteMessageKinds });
const Server = t.struct(serverFields(Entry));
type Server = typeof Server.__type;

const spec = protocol({
  name: 'raft',
  doc: 'Raft consensus (Ongaro & Ousterhout 2014, Figure 2; raft.tla): elections, log replication, commitment, crash/restart.',
  /** `batch`: most entries per AppendEntries (no effect at the model's bounds; it bounds messages on the executor). */
  /**
   * `batch`: most entries per AppendEntries (no effect at the model's bounds; it bounds messages on the executor).
   * `leaderLiveness`: also check "a leader is eventually elected" (a liveness property; see below). Off by
   * default: it holds on reliable links (the default set network, or bag without `--drop`), not on lossy ones
   * (see docs/protocols/raft.md).
   * `preVote`, `checkQuorum`, `terms`, `cut`: the election model's (election.ts, `raft:election-storm`): pre-vote
   * (thesis §9.6), check-quorum (§6.2), terms kept `bounded` by maxTerm or `modular` (unbounded, compared as
   * serial numbers), and a cut link (`first-last`: server 1 ↔ server N, with 3 servers or more). Off,
   * bounded and none by default, the only setting of the log-replicating server below (it refuses others).
   */
  params: {
    servers: { default: 3, min: 1, max: 255 }, maxTerm: { default: 2, min: 0, max: 2 ** 32 - 1 }, maxLog: { default: 1, min: 0, max: 2 ** 32 - 1 },
    values: { default: 1, min: 1, max: 255 }, batch: { default: 64, min: 1, max: 2 ** 16 }, leaderLiveness: false as boolean,
    preVote: false as boolean, checkQuorum: false as boolean,
    terms: { default: 'bounded' as string, oneOf: ['bounded', 'modular'] },
    cut: { default: 'none' as string, oneOf: ['none', 'first-last'] },
  },
  messages: Msg,
});

/**
 * The log-replicating server models neither pre-vote nor check-quorum, and needs bounded terms and
 * whole links: those params are the election model's (`raft:election-storm`, election.ts).
 */
function onlyElectionModel(p: ElectionParams): void {
  const set = (['preVote', 'checkQuorum'] as const).filter((k) => p[k]).map((k) => `${k}=true`);
  if (p.terms !== 'bounded') set.push(`terms=${p.terms}`);
  if (p.cut !== 'none') set.push(`cut=${p.cut}`);
  if (set.length > 0) {
    throw new ParamError(`raft's log-replicating server does not model ${set.join(', ')}: these params are the election model's (check raft:election-storm)`);
  }
}

/** The server role under a set of rules (the broken variants change one rule each). */
function server(rules: RaftRules) {
  return spec.role(Server)({
    count: (p) => p.servers,
    symmetric: true,
    durable: ['term', 'votedFor', 'log', 'repair'],
    init: () => initialCore<Entry>(),
    // The pre-vote pair and the turn are the election model's: this server never gets them.
    onMessage: (s, from, m, out, ctx) =>
      m.kind === 'preVote' || m.kind === 'preVoteReply' || m.kind === 'turn' ? s : handleMessage(observeTerm(s, m.term), from, m, out, ctx, rules),
    /** A damaged durable state: repair mode (a torn tail is taken as is). */
    onRecover: (s, damage, ctx) => recoverServer(s, damage, ctx),
    /**
     * A lost write is seen: each durable write carries a sequence number, flushed again as a
     * high-water mark in a second place once the write is flushed (specs/raft/disk-faults.ts), so
     * a log that ends below the mark lost a write and `onRecover` is told `lost-write`.
     */
    lostWrites: 'detected',
    actions: {
      /** The election timer fires (followers and candidates not in repair; terms are bounded by maxTerm). */
      timeout: {
        fair: 'weak',
        when: (s, ctx) => s.role !== 'leader' && s.term < ctx.params.maxTerm && s.repair === null,
        do: (s, _out, ctx) => startElection(s, ctx),
        timerMs: [150, 300],
      },
      /** A candidate asks `j` for its vote (again, if the request or the answer was lost). */
      requestVote: {
        fair: 'weak',
        choices: (_s, ctx) => ctx.nodes('server').filter((j) => j !== ctx.self),
        when: (s, _ctx, j: NodeId) => s.role === 'candidate' && !s.votes.includes(j),
        do: (s, out, _ctx, j: NodeId) => sendRequestVote(s, j, out),
        timerMs: [50, 50],
      },
      /** A leader sends `j` the entries it has not acknowledged (again, if they were lost), or a heartbeat. */
      appendEntries: {
        choices: (_s, ctx) => ctx.nodes('server').filter((j) => j !== ctx.self),
        when: (s) => s.role === 'leader',
        do: (s, out, ctx, j: NodeId) => sendAppend(rewindToMatch(s, j), j, out, 0, batchOf(ctx)),
        timerMs: [50, 50],
      },
      /** A server in repair mode asks `j` for its term (again, if the query or the answer was lost). */
      repairQuery: {
        choices: (_s, ctx) => ctx.nodes('server').filter((j) => j !== ctx.self),
        when: (s, _ctx, j: NodeId) => querying(s, j),
        do: (s, out, _ctx, j: NodeId) => sendRepairQuery(s, j, out),
        timerMs: [50, 50],
      },
      /** A leader receives a client value (a model-only action: raft-kv has real clients). */
      clientRequest: {
        choices: (_s, ctx) => Array.from({ length: ctx.params.values }, (_, i) => i + 1),
        when: (s, ctx) => s.role === 'leader' && s.log.length < ctx.params.maxLog,
        do: (s, _out, _ctx, value: number) => ({ ...s, log: [...s.log, { term: s.term, value }] }),
      },
    },
  });
}

/**
 * Liveness, "a leader is eventually elected", within the term bound. Fair delivery, and weakly
 * fair timers (`timeout`) and vote requests: a follower or candidate below `maxTerm` eventually
 * starts an election; a candidate keeps asking. In the model a timer may fire in any state where
 * it is enabled (heartbeats do not push it back), so fair timers drive every run up to the term
 * bound, where timeouts stop: a run whose last election (in `maxTerm`) can no longer produce a
 * leader — a split vote, or only candidates with stale logs left — stays leaderless forever only
 * because the bound ran out (unbounded Raft starts another term). Those end states are excused;
 * any other leaderless cycle is a finding. Crashed servers neither count nor need to be elected.
 */
function leaderElected(maxTerm: number) {
  return eventually('a leader is elected (within the term bound)', (w: WorldReader) => {
    const leads = w.nodes('server').some((id) => !w.crashed(id) && w.node<Server>(id).role === 'leader');
    return leads || boundRanOut(w, maxTerm);
  }, { fairDelivery: true });
}

export default spec.define({
  // Servers are interchangeable: the bare check quotients by their permutations (--no-symmetry to
  // check liveness, which is not checked under symmetry). It is what makes `--disk-faults 1` at the
  // defaults finish in minutes: about 6x fewer states (docs/protocols/raft.md).
  checkDefaults: { symmetry: true },
  roles: { server: server(correctRules) },
  properties: (p) => [
    ...(onlyElectionModel(p), raftInvariants),
    reachable('a leader is elected', (w) => w.any<Server>('server', (s) => s.role === 'leader')),
    ...(p.leaderLiveness ? [leaderElected(p.maxTerm)] : []),
    reachable('an entry is committed', (w) => w.any<Server>('server', (s) => s.commit > 0)),
  ],
  variants: {
    'vote-twice': {
      doc: 'A server grants its vote to every up-to-date candidate of the term, not only the first: two leaders in one term (election safety).',
      roles: { server: server({ ...correctRules, oneVotePerTerm: false }) },
    },
    'commit-old-term': {
      doc: "The leader commits an entry of an older term once a majority stores it (the paper's Figure 8): a later leader lacks it (needs maxTerm 5).",
      expose: { params: { maxTerm: 5 }, options: { network: 'bag', drop: true, maxInFlight: 1 } },
      roles: { server: server({ ...correctRules, onlyCurrentTermCommit: false }) },
    },
    'volatile-vote': {
      doc: 'votedFor is not persisted before the vote is sent: after a crash (--crashes 1) a server votes again in the same term (election safety).',
      expose: { options: { network: 'bag', drop: true, crashes: 1, maxInFlight: 1 } },
      roles: { server: { ...server(correctRules), durable: ['term', 'log', 'repair'] } },
    },
    'election-storm': {
      doc: 'Leader election without pre-vote and check-quorum, one link cut (server 1 ↔ server 3, a partial partition), terms unbounded (modular): the server cut off from the leader campaigns in a newer term through the middle server and deposes the leader, which in turn campaigns and deposes it — for ever (no stable leader). The election model (no log): with --param preVote=true --param checkQuorum=true the leader stays.',
      expose: {
        params: { servers: 3, terms: 'modular', cut: 'first-last', preVote: false, checkQuorum: false },
        // Symmetry off: the storm is a liveness lasso, which is not checked under symmetry.
        options: { network: 'bag', fairDelivery: true, symmetry: false },
      },
      // Another model of the server (its own state): it replaces the role.
      roles: { server: electionServer() as never },
      properties: (p) => electionProperties(p),
    },
    'truncate-on-corruption': {
      doc: "A server whose log is found corrupted or emptied takes what it could read as the truth and votes as if nothing happened (the executor's durable log before protocol-aware recovery: truncate at the bad record and carry on): it forgets a vote or an acknowledged entry, and a second leader is elected in a term, or a leader without a committed entry (Alagappan et al., FAST 2018). Needs the checker's --disk-faults.",
      expose: { options: { network: 'bag', drop: true, maxInFlight: 1, crashes: 1, diskFaults: 1 } },
      roles: { server: { onRecover: (s) => recoverAsIs(s) } },
    },
    'undetected-lost-write': {
      doc: "A write the disk acknowledged is lost (an fsync that lied) and the log cannot tell: every record checks out, so a server restarts from its durable state before the lost write as if it were its newest, without repair mode. It forgets a vote and votes again in the same term: two leaders (election safety). The plain log cannot detect it; a high-water mark of write sequence numbers flushed in a second place can (lostWrites: 'detected', specs/raft/disk-faults.ts), and then repair mode keeps raft safe. Needs the checker's --disk-faults, which draws the lost write.",
      expose: { options: { diskFaults: 1 } },
      roles: { server: { lostWrites: 'undetected' } },
    },
  },
});
