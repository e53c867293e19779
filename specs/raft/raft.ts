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
 * Not modeled: membership changes, log compaction and snapshots, pre-vote, leadership transfer,
 * and clients (see raft-kv.ts for a KV store with clients and reads on top of this core).
 * Differences from raft.tla, which change state counts but not the protocol, are listed in
 * consensus.ts and docs/protocols/raft.md.
 */
import { eventually, protocol, reachable, t, type NodeId, type WorldReader } from '../core/index.ts';
import {
  batchOf, correctRules, handleMessage, observeTerm, initialCore, querying, raftMessages, recoverAsIs, recoverServer, sendAppend,
  sendRepairQuery, sendRequestVote, serverFields, startElection, type RaftRules,
} from './consensus.ts';
import { diskFaultAction } from './disk-faults.ts';
import { boundRanOut } from './liveness.ts';
import { raftInvariants } from './properties.ts';

/** A log entry: the term it was created in and a client value. */
const Entry = t.struct({ term: t.u32, value: t.u32 });
type Entry = typeof Entry.__type;

const Msg = raftMessages(Entry);
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
   */
  params: { servers: { default: 3, min: 1, max: 255 }, maxTerm: 2, maxLog: 1, values: 1, batch: 64, leaderLiveness: false as boolean },
  messages: Msg,
});

/** The server role under a set of rules (the broken variants change one rule each). */
function server(rules: RaftRules) {
  return spec.role(Server)({
    count: (p) => p.servers,
    symmetric: true,
    durable: ['term', 'votedFor', 'log', 'repair'],
    init: () => initialCore<Entry>(),
    onMessage: (s, from, m, out, ctx) => handleMessage(observeTerm(s, m.term), from, m, out, ctx, rules),
    /** A damaged durable state: repair mode (a torn tail is taken as is). */
    onRecover: (s, damage, ctx) => recoverServer(s, damage, ctx),
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
      /** A leader sends `j` its missing entries, or a heartbeat. */
      appendEntries: {
        choices: (_s, ctx) => ctx.nodes('server').filter((j) => j !== ctx.self),
        when: (s) => s.role === 'leader',
        do: (s, out, ctx, j: NodeId) => sendAppend(s, j, out, 0, batchOf(ctx)),
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
  roles: { server: server(correctRules) },
  properties: (p) => [
    ...raftInvariants,
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
    'truncate-on-corruption': {
      doc: "A server whose log is found corrupted or emptied takes what it could read as the truth and votes as if nothing happened (the executor's durable log before protocol-aware recovery: truncate at the bad record and carry on): it forgets a vote or an acknowledged entry, and a second leader is elected in a term, or a leader without a committed entry (Alagappan et al., FAST 2018). Needs the checker's --disk-faults.",
      expose: { options: { network: 'bag', drop: true, maxInFlight: 1, crashes: 1, diskFaults: 1 } },
      roles: { server: { onRecover: (s) => recoverAsIs(s) } },
    },
    'undetected-lost-write': {
      doc: "A write the disk acknowledged is lost (an fsync that lied) and the log cannot tell: every record checks out, so the first server restarts from an older durable state as if it were its newest, without repair mode. It forgets a vote and votes again in the same term: two leaders (election safety). The plain log cannot detect it; a high-water mark of write sequence numbers flushed in a second place can (specs/raft/disk-faults.ts), and then repair mode keeps raft safe (specs/raft/repair.test.ts).",
      roles: { server: { actions: { lostWrite: diskFaultAction(server(correctRules), 'lost-write', true) } } },
    },
  },
});
