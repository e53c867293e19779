/**
 * Amazon Aurora's quorum storage: a writer that ships only redo log records to a protection group
 * of 6 segments in 3 availability zones, durable at 4/6, recovered from 3/6, without consensus.
 *
 * Sources: Verbitski et al., "Amazon Aurora: Design Considerations for High Throughput
 * Cloud-Native Relational Databases" (SIGMOD 2017), §2 (quorums, AZ+1, segments) and §4.2–4.3
 * (LSNs, VCL/VDL, CPLs, LAL, recovery by truncation); and "Amazon Aurora: On Avoiding Distributed
 * Consensus for I/Os, Commits, and Membership Changes" (SIGMOD 2018), §2 (SCL, PGCL, VCL, VDL,
 * commit once VDL ≥ the commit LSN, crash recovery, volume epochs) and §4 (membership changes
 * with epochs and dual quorums: ABCDEF → ABCDEF/ABCDEG → ABCDEG). Aurora's code is not public;
 * where the papers leave a rule open, the choice made here is said below.
 *
 * Roles: one `writer` (the database instance), the `storage` segments of one protection group
 * (s1..s6, two per AZ: AZ1 = s1 s2, AZ2 = s3 s4, AZ3 = s5 s6; with `membership`, s7 is the spare
 * G), and `replicas` read replicas. The world's clients send `commit` to the writer.
 *
 * - **Writes.** A commit is one mini-transaction (MTR) of `mtrRecords` redo records with
 *   consecutive LSNs; each carries a backlink to the record before it and the writer's volume
 *   epoch, and the last is a consistency point (CPL). The writer sends every record to every
 *   segment and waits for nothing. A segment stores a record whose backlink it holds (one above a
 *   hole stays in flight: the set network keeps it deliverable, as buffering it would) and
 *   answers with its segment complete LSN (SCL). The writer's PGCL is the highest LSN a write
 *   quorum (4/6) of SCLs reaches; with one protection group the volume complete LSN (VCL) is the
 *   PGCL; the volume durable LSN (VDL) is the highest CPL at or below it. A commit is acknowledged
 *   once VDL ≥ its LSN. LAL: no LSN is allocated above max(VDL, the epoch's truncation end) + `lal`.
 *   A writer that cannot take a commit (recovering, or at the LAL) leaves the request unanswered:
 *   it comes again (the set network delivers it again; the executor's client retries). The writer
 *   keeps the last request id of each client durably (`seen`), so that a request delivered again
 *   after a crash is not committed twice (a real writer loses its client connections instead).
 * - **Recovery.** A restarted writer takes the next volume epoch (its durable counter: in Aurora
 *   the control plane hands out the writer) and reads a read quorum (3/6) of segments; a segment
 *   that is read takes the new epoch, and from then on refuses writes of an older one (the fence).
 *   Among the replies the head of the highest (epoch, LSN) gives the VCL, and the highest CPL on
 *   its chain the recovered VDL. The writer truncates (VDL, end], end = max(VDL, the latest
 *   truncation end heard) + LAL, the highest LSN an earlier writer can have allocated: its first
 *   record has LSN end + 1 and a backlink to the recovered VDL, and a segment that stores it drops
 *   every record of an older epoch above that backlink. The truncation thus travels with the new
 *   epoch's first records instead of a separate round; records carry epochs so that a segment
 *   never confuses a stale record with one of the new writer (the papers bound the truncation
 *   range by LAL because their records carry none). A commit of the new writer is durable only on
 *   segments that truncated.
 * - **Read replicas** receive, each time VDL advances, the records up to VDL (whole MTRs only, from
 *   the recovered prefix on after a recovery, with the pages when the writer's records do not
 *   reach back to the replica) and apply them.
 * - **Membership change** (`membership`): the writer replaces s1 (F) by the spare s7 (G): it
 *   announces the dual configuration ABCDEF/ABCDEG under the next membership epoch and from then
 *   on needs a write quorum of each set; G is hydrated by gossip from its peers; once G's SCL
 *   reaches the VDL at the start of the change, the writer installs ABCDEG alone on a write quorum
 *   of both sets, and only then needs ABCDEG alone. A recovering writer adopts the configuration
 *   with the highest membership epoch among its replies and needs a read quorum of it.
 * - **Gossip** (`gossip`): a segment sends its chain to a peer, which takes what extends its own
 *   (`join`: only to the joining segment G; `all`: to every member, as the executor runs it).
 * - **Coalescing** (`coalesce`): writes carry the writer's VDL; a segment folds its chain up to the
 *   highest CPL at or below it into its pages (here the set of committed transactions) and drops
 *   the records. This is what keeps a segment's durable state small on the executor.
 *
 * Faults, all in the default check: the set network (loss, reordering, duplication, any delay —
 * which is also any temporary outage of a segment or an AZ); the writer's `crash` action (at most
 * `writerCrashes`, at any point: its volatile state is lost, its messages in flight stay: the late
 * writes of an old writer); the permanent loss of a segment with its data (`fail`, for
 * s1..s`failures`, once the segment holds a record: losing an empty one is the same as never
 * hearing from it; the segments are interchangeable, so this is "any `failures` segments"; the
 * default 3 is AZ1 plus one segment of AZ2, the AZ+1 of the papers).
 *
 * Model choices that cut the state space without removing behaviours (the properties name no
 * segment): a recovering writer sends its reads to one read quorum (a `boot` choice: the first
 * segments to answer; `reread` asks them again, and with `readAll`, the executor's setting, any
 * segment), and in the first recovery the segments that cannot fail are picked in order (a
 * symmetry reduction: 8 choices instead of 20 at the defaults); the writer forgets
 * acknowledgements at or below its VDL (they can no longer raise it).
 *
 * Not modeled: more than one protection group (VCL = PGCL; backlinks are consecutive except across
 * a truncation), pages and their materialization beyond the set of committed transactions, reads
 * served by storage, undo, buffer caches, replica promotion, more than one membership change, a
 * zombie writer that keeps running after its successor started (only its messages outlive it),
 * and the control plane that hands out epochs.
 */
import { add, invariant, protocol, put, reachable, t, unreachable, type Ctx, type NodeId, type Out, type ParamsOf, type WorldReader } from '../core/index.ts';
import {
  Config, Rec, Txns, addTxn, chain, cplOnChain, head, holds, isQuorum, key, members, missableBy, pgcl, scl, subsets,
  type Pos, type Quorums, type SegmentLog,
} from './log.ts';

// ---------------------------------------------------------------- params

// Ranges: counts that size the layout stay within a node id's byte; bounds the live examples
// raise to "never in practice" (lal: 1,000,000) go up to 2^32 − 1.
const params = {
  clients: { default: 1, min: 0, max: 255 },
  opsPerClient: { default: 1, min: 0, max: 2 ** 20 },
  /** Redo records per commit (one mini-transaction; the last is its CPL). */
  mtrRecords: { default: 1, min: 1, max: 1024 },
  /** The LSN allocation limit above max(VDL, truncation end). */
  lal: { default: 4, min: 1, max: 2 ** 32 - 1 },
  /** How many times the writer may crash (and recover). */
  writerCrashes: { default: 1, min: 0, max: 2 ** 32 - 1 },
  /** Segments s1..s`failures` may each be lost for good (3: AZ1 + one more, the AZ+1 of the papers). */
  failures: { default: 3, min: 0, max: 6 },
  /** Read replicas. */
  replicas: { default: 1, min: 0, max: 255 },
  /** The writer may replace s1 by the spare s7 (dual quorums). */
  membership: false,
  /** Storage gossip: off, join (only to a joining segment), all. */
  gossip: { default: 'join' as string, oneOf: ['off', 'join', 'all'] },
  /** Writes carry VDL; segments fold the durable prefix into pages (the executor's setting). */
  coalesce: false,
  /** Recovery may ask any segment again, not only its first read quorum (the executor's setting). */
  readAll: false,
};
type P = ParamsOf<typeof params>;

/** Aurora's quorums: 4/6 to write, 3/6 to read. The properties judge survival with these. */
const AURORA: Quorums = { write: 4, read: 3 };

// ---------------------------------------------------------------- messages

/** A truncation, as a segment records it: the epoch whose first record jumped over (vdl, end]. */
const Cut = t.struct({ epoch: t.u32, vdl: t.u32, end: t.u32 });

/** What a segment tells a recovering writer. */
const Reply = t.struct({
  mepoch: t.u32,
  config: Config,
  cut: Cut,
  base: t.u32,
  baseEpoch: t.u32,
  txns: Txns,
  log: t.array(Rec),
});
type Reply = typeof Reply.__type;

const Msg = t.union('kind', {
  /** Writer → segment: one redo record, and the writer's VDL (for coalescing). */
  write: { epoch: t.u32, rec: Rec, vdl: t.u32 },
  /** Segment → writer: its SCL in the writer's epoch (0: nothing of that epoch yet). */
  ack: { epoch: t.u32, scl: t.u32 },
  /** Recovering writer → segment: the new volume epoch (the segment takes it: older writers are fenced). */
  read: { epoch: t.u32 },
  /** Segment → recovering writer: its log, last truncation and membership. */
  state: { epoch: t.u32, reply: Reply },
  /** Writer → segment: install a membership. */
  bump: { epoch: t.u32, mepoch: t.u32, config: Config },
  /** Segment → writer: membership installed; with its SCL. */
  bumped: { epoch: t.u32, mepoch: t.u32, scl: t.u32 },
  /** Segment → segment (gossip): its chain, and its pages if it has coalesced. */
  fill: { epoch: t.u32, base: t.u32, baseEpoch: t.u32, txns: Txns, recs: t.array(Rec) },
  /** Writer → replica: the records in (from, to] (whole MTRs; to = VDL); `snap`: the pages at `from` when the writer has no records below. */
  batch: { from: t.u32, to: t.u32, toEpoch: t.u32, snap: t.option(Txns), recs: t.array(Rec) },
});
type Msg = typeof Msg.__type;

const Op = t.union('kind', { commit: { txn: t.u32 } });
type Op = typeof Op.__type;

const Result = t.union('kind', {
  /** Durable: VDL reached the commit record (LSN, epoch). */
  committed: { lsn: t.u32, epoch: t.u32 },
});
type Result = typeof Result.__type;

// ---------------------------------------------------------------- state

const Pending = t.struct({ lsn: t.u32, client: t.node('client'), id: t.u32 });

const Writer = t.struct({
  phase: t.enum('boot', 'read', 'open'),
  /** The volume epoch (durable: a restarted writer takes the next one). */
  epoch: t.u32,
  /** The last epoch this writer opened for commits (durable; 0: a brand-new volume). */
  opened: t.u32,
  /** Model bound: crashes so far (durable so that the bound holds across them). */
  crashes: t.u32,
  /** Per client, the last request id taken (durable: a request delivered again is not a new commit). */
  seen: t.map(t.node('client'), t.u32),
  /** The membership epoch and the configuration the writer enforces. */
  mepoch: t.u32,
  config: Config,
  /** The configuration announced under `mepoch` (differs from `config` while finishing a change). */
  announce: Config,
  change: t.enum('none', 'dual', 'finishing', 'done'),
  /** A change finishes once G's SCL reaches this. */
  hydrateTo: t.u32,
  /** Segments that installed the announced membership. */
  heard: t.set(t.node('storage')),
  /** Recovery: the segments asked, and the replies so far. */
  asked: t.set(t.node('storage')),
  replies: t.map(t.node('storage'), Reply),
  /** The recovered VDL (0 for a brand-new volume). */
  floor: t.u32,
  /** This epoch's truncation end; its LSNs start above it. */
  end: t.u32,
  /** The next LSN, and the backlink of the next record. */
  next: t.u32,
  last: t.u32,
  lastEpoch: t.u32,
  /** The VDL of this epoch (0 until a commit of this epoch is durable). */
  vdl: t.u32,
  /** This epoch's CPLs above `vdl`. */
  cpls: t.array(t.u32),
  /** The SCLs above `vdl` that segments reported in this epoch. */
  acks: t.map(t.node('storage'), t.u32),
  /** Commits waiting for VDL. */
  pending: t.array(Pending),
  /** Records not yet shipped to the replicas, above `tailFrom`; `snap`: the pages at `tailFrom`. */
  tail: t.array(Rec),
  tailFrom: t.u32,
  snap: t.option(Txns),
});
type Writer = typeof Writer.__type;

const Storage = t.struct({
  failed: t.bool,
  /** The highest volume epoch seen: writes of an older one are refused. */
  epoch: t.u32,
  mepoch: t.u32,
  config: Config,
  /** The last truncation this segment applied. */
  cut: Cut,
  /** Everything at or below `base` (a CPL of epoch `baseEpoch`) is coalesced into `txns`, the pages. */
  base: t.u32,
  baseEpoch: t.u32,
  txns: Txns,
  /** Records above `base`, by LSN. */
  log: t.array(Rec),
});
type Storage = typeof Storage.__type;

const Replica = t.struct({ applied: t.u32, appliedEpoch: t.u32, txns: Txns });
type Replica = typeof Replica.__type;

// ---------------------------------------------------------------- rules (the variants change them)

/** The protocol's rules; each broken variant changes one. */
export interface Rules {
  /** Segments a write needs (of 6). */
  readonly writeQuorum: number;
  /** Segments a recovery reads (of 6). */
  readonly readQuorum: number;
  /** Acknowledge a commit once VDL ≥ its LSN (false: as soon as its records are sent). */
  readonly ackAtVdl: boolean;
  /** A recovered writer continues the log from the recovered VDL (false: from the VCL, keeping what lies above VDL). */
  readonly truncate: boolean;
  /** Recovery takes a new volume epoch. */
  readonly bumpEpoch: boolean;
  /** A membership change goes through dual quorums (false: straight to the new set). */
  readonly dualQuorum: boolean;
}

export const correctRules: Rules = { writeQuorum: 4, readQuorum: 3, ackAtVdl: true, truncate: true, bumpEpoch: true, dualQuorum: true };

// ---------------------------------------------------------------- helpers

const spec = protocol({
  name: 'aurora',
  doc: "Amazon Aurora's quorum storage (SIGMOD 2017, 2018): 6 segments in 3 AZs, 4/6 writes, 3/6 recovery reads, VDL commits, truncation and epochs, replicas, dual-quorum membership change.",
  params,
  messages: Msg,
  client: { op: Op, result: Result },
});

const NO_ACKS: ReadonlyMap<NodeId, number> = new Map();
const NO_REPLIES: ReadonlyMap<NodeId, Reply> = new Map();
const NO_SEEN: ReadonlyMap<NodeId, number> = new Map();
const NO_CUT = { epoch: 0, vdl: 0, end: 0 };

/** The six initial segments (s1..s6) and the spare (s7), by node id. */
function segments(nodes: readonly NodeId[]): { initial: readonly NodeId[]; spare: NodeId | undefined } {
  return { initial: nodes.slice(0, 6), spare: nodes[6] };
}

function gossipMode(p: P): 'off' | 'join' | 'all' {
  const g = p.gossip;
  if (g !== 'off' && g !== 'join' && g !== 'all') throw new Error(`param gossip must be off, join or all, got '${g}'`);
  return g;
}

/** The segment's SCL in epoch `epoch`: its head's LSN if the head is of that epoch, else 0. */
function sclIn(s: SegmentLog, epoch: number): number {
  const h = head(s);
  return h.epoch === epoch ? h.lsn : 0;
}

/**
 * Stores `r` if it extends the segment's log: new, above the pages, its backlink held, and no
 * record of a newer epoch above its backlink (it would be a stale branch). Storing it drops every
 * record of an older epoch above its backlink: the truncation a new writer's first record makes.
 * The same state when `r` does not attach.
 */
function attach(s: Storage, r: Rec): Storage {
  if (r.lsn <= s.base) return s;
  const linked = (r.prev === s.base && r.pe === s.baseEpoch) || s.log.some((x) => x.lsn === r.prev && x.epoch === r.pe);
  if (!linked) return s;
  if (s.log.some((x) => (x.lsn === r.lsn && x.epoch === r.epoch) || (x.epoch > r.epoch && x.lsn > r.prev))) return s;
  const kept = s.log.filter((x) => !(x.epoch < r.epoch && x.lsn > r.prev));
  let i = 0;
  while (i < kept.length && kept[i]!.lsn < r.lsn) i++;
  const log = [...kept.slice(0, i), r, ...kept.slice(i)];
  const cut = r.pe < r.epoch && r.epoch > s.cut.epoch ? { epoch: r.epoch, vdl: r.prev, end: r.lsn - 1 } : s.cut;
  return { ...s, log, cut };
}

/** Folds the chain up to the highest CPL at or below `vdl` (of the head's epoch) into the pages. */
function coalesce(s: Storage, vdl: number): Storage {
  const h = head(s);
  if (vdl <= s.base) return s;
  let point: Pos | undefined;
  const c = chain(s, h);
  for (const r of c) if (r.cpl && r.lsn <= vdl) point = { lsn: r.lsn, epoch: r.epoch };
  if (!point) return s;
  let txns = s.txns;
  for (const r of c) if (r.lsn <= point.lsn && r.cpl) txns = addTxn(txns, r.txn);
  // Records at or below a durable CPL that are off its chain are dead: no recovery revives them.
  return { ...s, base: point.lsn, baseEpoch: point.epoch, txns, log: s.log.filter((r) => r.lsn > point.lsn) };
}

// ---------------------------------------------------------------- the writer

function initialWriter(storage: readonly NodeId[]): Writer {
  const config: Config = { old: segments(storage).initial, neu: [] };
  return {
    phase: 'boot', epoch: 1, opened: 0, crashes: 0, seen: NO_SEEN, mepoch: 1, config, announce: config, change: 'none', hydrateTo: 0,
    heard: [], asked: [], replies: NO_REPLIES, floor: 0, end: 0, next: 1, last: 0, lastEpoch: 0, vdl: 0, cpls: [], acks: NO_ACKS,
    pending: [], tail: [], tailFrom: 0, snap: null,
  };
}

/**
 * The read quorums a recovering writer may ask first. The segments that cannot fail
 * (s`failures`+1..s6) are interchangeable until a recovery picks some of them, so the first
 * recovery takes them in order: its choices are {the failable ones it picks} ∪ {the first others}
 * (8 instead of 20 at the defaults). A symmetry reduction: relabelling those segments maps every
 * run onto one of these, and the properties do not name segments. Later recoveries, and runs with
 * a membership change (where s1 is special), choose among every subset.
 */
function readQuorums(s: Writer, ctx: Ctx<P>, size: number): NodeId[][] {
  const all = ctx.nodes('storage');
  if (s.crashes !== 1 || ctx.params.membership) return subsets(all, size);
  const failable = all.slice(0, Math.min(ctx.params.failures, 6));
  const stable = all.slice(failable.length, 6);
  const out: NodeId[][] = [];
  for (let k = 0; k <= Math.min(size, failable.length); k++) {
    if (size - k > stable.length) continue;
    for (const a of subsets(failable, k)) out.push([...a, ...stable.slice(0, size - k)]);
  }
  return out;
}

/** Whether `n` is joining the protection group (in the new set of a change in progress, not in the old). */
function joining(s: Writer, n: NodeId): boolean {
  return s.change === 'dual' && s.config.neu.includes(n) && !s.config.old.includes(n);
}

function sendBump(s: Writer, to: NodeId, out: Out<Msg, Result>): void {
  out.send(to, { kind: 'bump', epoch: s.epoch, mepoch: s.mepoch, config: s.announce });
}

function writer(rules: Rules) {
  const q: Quorums = { write: rules.writeQuorum, read: rules.readQuorum };

  /** VDL from the SCLs heard: acknowledge what it covers, ship it to the replicas. */
  const advance = (s: Writer, out: Out<Msg, Result>, ctx: Ctx<P>): Writer => {
    if (s.phase !== 'open' || s.cpls.length === 0) return s;
    const complete = pgcl(s.config, s.acks, q.write);
    let vdl = s.vdl;
    for (const c of s.cpls) if (c <= complete && c > vdl) vdl = c;
    if (vdl === s.vdl) return s;
    for (const p of s.pending) if (p.lsn <= vdl) out.reply({ kind: 'committed', lsn: p.lsn, epoch: s.epoch }, { client: p.client, id: p.id });
    const recs = s.tail.filter((r) => r.lsn <= vdl);
    for (const r of ctx.nodes('replica')) out.send(r, { kind: 'batch', from: s.tailFrom, to: vdl, toEpoch: s.epoch, snap: s.snap, recs });
    // An SCL at or below VDL can no longer raise it (but a joining segment's tells how far it is hydrated).
    const acks = new Map([...s.acks].filter(([n, v]) => v > vdl || joining(s, n)));
    return {
      ...s, vdl, cpls: s.cpls.filter((c) => c > vdl), pending: s.pending.filter((p) => p.lsn > vdl), acks,
      tail: s.tail.filter((r) => r.lsn > vdl), tailFrom: vdl, snap: null,
    };
  };

  /** Once the replies make a read quorum: the recovered VDL and the truncation; then open. */
  const recover = (s: Writer, ctx: Ctx<P>): Writer => {
    let top: Reply | undefined;
    for (const r of s.replies.values()) if (!top || r.mepoch > top.mepoch) top = r;
    if (!top) return s;
    const config = top.config;
    if (!isQuorum(config, (n) => s.replies.has(n), q.read)) return s;
    // The head of the highest (epoch, LSN) among the replies: the VCL and its chain.
    let best: Reply | undefined;
    let bestHead: Pos = { lsn: 0, epoch: 0 };
    let end = 0;
    for (const [, r] of [...s.replies.entries()].sort((a, b) => a[0] - b[0])) {
      const h = head(r);
      if (!best || h.epoch > bestHead.epoch || (h.epoch === bestHead.epoch && h.lsn > bestHead.lsn)) {
        best = r;
        bestHead = h;
      }
      if (r.cut.end > end) end = r.cut.end;
    }
    const vdl = cplOnChain(best!, bestHead);
    // The new log continues from the recovered VDL: everything above it is truncated.
    const from = rules.truncate ? vdl : bestHead;
    // LAL: no earlier writer allocated above max(its VDL, its truncation end) + lal.
    end = Math.max(end, from.lsn) + ctx.params.lal;
    return {
      ...s, phase: 'open', opened: s.epoch, mepoch: top.mepoch, config, announce: config,
      change: config.neu.length > 0 ? 'dual' : top.mepoch > 1 ? 'done' : 'none', hydrateTo: vdl.lsn, heard: [],
      asked: [], replies: NO_REPLIES, floor: vdl.lsn, end, next: end + 1, last: from.lsn, lastEpoch: from.epoch,
      vdl: 0, cpls: [], acks: NO_ACKS, pending: [], tail: chain(best!, from), tailFrom: best!.base, snap: best!.base > 0 ? best!.txns : null,
    };
  };

  return spec.role(Writer)({
    count: 1,
    durable: ['epoch', 'opened', 'crashes', 'seen'],
    init: (ctx) => initialWriter(ctx.nodes('storage')),
    onRequest: (s, req, out, ctx) => {
      const seen = s.seen.get(req.client);
      if (seen !== undefined && seen >= req.id) return s;
      // Recovering, or LAL reached: not taken now; the client's request comes again (the set
      // network delivers it again, the executor's client retries after its timeout).
      const k = ctx.params.mtrRecords;
      const lastLsn = s.next + k - 1;
      if (s.phase !== 'open' || lastLsn > Math.max(s.vdl, s.end) + ctx.params.lal) return s;
      const taken = put(s.seen, req.client, req.id);
      const recs: Rec[] = [];
      let prev = s.last;
      let pe = s.lastEpoch;
      for (let lsn = s.next; lsn <= lastLsn; lsn++) {
        recs.push({ lsn, prev, pe, epoch: s.epoch, txn: req.op.txn, cpl: lsn === lastLsn });
        prev = lsn;
        pe = s.epoch;
      }
      const vdl = ctx.params.coalesce ? s.vdl : 0;
      for (const m of members(s.config)) for (const rec of recs) out.send(m, { kind: 'write', epoch: s.epoch, rec, vdl });
      if (!rules.ackAtVdl) out.reply({ kind: 'committed', lsn: lastLsn, epoch: s.epoch });
      return {
        ...s, seen: taken, next: lastLsn + 1, last: lastLsn, lastEpoch: s.epoch, cpls: [...s.cpls, lastLsn], tail: [...s.tail, ...recs],
        pending: rules.ackAtVdl ? [...s.pending, { lsn: lastLsn, client: req.client, id: req.id }] : s.pending,
      };
    },
    onMessage: (s, from, m, out, ctx) => {
      switch (m.kind) {
        case 'ack': {
          if (s.phase !== 'open' || m.epoch !== s.epoch || (s.acks.get(from) ?? -1) >= m.scl) return s;
          // An SCL at or below VDL cannot raise it (but a joining segment's tells how far it is hydrated).
          if (m.scl <= s.vdl && !joining(s, from)) return s;
          return advance({ ...s, acks: put(s.acks, from, m.scl) }, out, ctx);
        }
        case 'state': {
          if (s.phase !== 'read' || m.epoch !== s.epoch || s.replies.has(from)) return s;
          return recover({ ...s, replies: put(s.replies, from, m.reply) }, ctx);
        }
        case 'bumped': {
          if (s.phase !== 'open' || m.epoch !== s.epoch || m.mepoch !== s.mepoch) return s;
          let n = s;
          if ((m.scl > n.vdl || joining(n, from)) && (n.acks.get(from) ?? -1) < m.scl) n = { ...n, acks: put(n.acks, from, m.scl) };
          // Only the final configuration must be installed on a write quorum (of both sets) before
          // the writer relies on it alone; the dual one is announced for a writer that recovers.
          if (n.change === 'finishing' && !n.heard.includes(from)) n = { ...n, heard: add(n.heard, from) };
          if (n.change === 'finishing' && isQuorum(n.config, (x) => n.heard.includes(x), q.write)) n = { ...n, config: n.announce, change: 'done', heard: [] };
          return n === s ? s : advance(n, out, ctx);
        }
        case 'write': case 'read': case 'fill': case 'batch': case 'bump':
          return s;
        default:
          return unreachable(m);
      }
    },
    actions: {
      /**
       * Start: a brand-new volume opens epoch 1; a writer that opened an epoch before recovers in
       * the next one, reading `readQuorum` segments. Which ones is the choice: the first to answer.
       */
      boot: {
        choices: (s, ctx) => (s.opened === 0 ? [[] as NodeId[]] : readQuorums(s, ctx, q.read)),
        when: (s) => s.phase === 'boot',
        do: (s, out, _ctx, ask: readonly NodeId[]) => {
          if (s.opened === 0) return { ...s, phase: 'open', opened: s.epoch };
          const epoch = rules.bumpEpoch ? s.epoch + 1 : s.epoch;
          for (const n of ask) out.send(n, { kind: 'read', epoch });
          return { ...s, phase: 'read', epoch, asked: ask };
        },
        timerMs: [0, 0],
      },
      /** The writer crashes (model fault, at most `writerCrashes`): it keeps only its durable fields. */
      crash: {
        when: (s, ctx) => s.phase !== 'boot' && s.crashes < ctx.params.writerCrashes,
        do: (s, _out, ctx) => ({ ...initialWriter(ctx.nodes('storage')), epoch: s.epoch, opened: s.opened, crashes: s.crashes + 1, seen: s.seen }),
      },
      /** Recovery: ask a segment again (a reply may be lost), or, with `readAll`, any other. */
      reread: {
        choices: (_s, ctx) => ctx.nodes('storage'),
        when: (s, ctx, n: NodeId) => s.phase === 'read' && !s.replies.has(n) && (s.asked.includes(n) || ctx.params.readAll),
        do: (s, out, _ctx, n: NodeId) => {
          out.send(n, { kind: 'read', epoch: s.epoch });
          return s;
        },
        timerMs: [20, 40],
      },
      /** Install the announced membership on a segment that has not confirmed it. */
      rebump: {
        choices: (s) => members(s.config),
        when: (s, _ctx, n: NodeId) => s.phase === 'open' && (s.change === 'dual' || s.change === 'finishing') && !s.heard.includes(n),
        do: (s, out, _ctx, n: NodeId) => {
          sendBump(s, n, out);
          return s;
        },
        timerMs: [20, 40],
      },
      /** Membership: start replacing s1 (F) by the spare s7 (G), once this epoch has a durable commit. */
      beginChange: {
        when: (s, ctx) => ctx.params.membership && s.phase === 'open' && s.change === 'none' && s.vdl > 0,
        do: (s, out, ctx) => {
          const { spare } = segments(ctx.nodes('storage'));
          const f = s.config.old[0]!;
          const neu = add(s.config.old.filter((n) => n !== f), spare!);
          const config: Config = rules.dualQuorum ? { old: s.config.old, neu } : { old: neu, neu: [] };
          const n: Writer = {
            ...s, mepoch: s.mepoch + 1, config, announce: config, change: rules.dualQuorum ? 'dual' : 'done', hydrateTo: s.vdl, heard: [],
          };
          for (const m of members(config)) sendBump(n, m, out);
          return n;
        },
      },
      /** Membership: G holds everything acknowledged before the change; install ABCDEG alone. */
      finishChange: {
        when: (s) => {
          return s.phase === 'open' && s.change === 'dual' && s.config.neu.every((n) => !joining(s, n) || (s.acks.get(n) ?? 0) >= s.hydrateTo);
        },
        do: (s, out) => {
          const n: Writer = { ...s, mepoch: s.mepoch + 1, announce: { old: s.config.neu, neu: [] }, change: 'finishing', heard: [] };
          for (const m of members(s.config)) sendBump(n, m, out);
          return n;
        },
      },
    },
  });
}

// ---------------------------------------------------------------- the segments

function storage() {
  return spec.role(Storage)({
    count: (p) => (p.membership ? 7 : 6),
    durable: true,
    init: (ctx) => ({
      failed: false, epoch: 1, mepoch: 1, config: { old: segments(ctx.nodes('storage')).initial, neu: [] }, cut: NO_CUT,
      base: 0, baseEpoch: 0, txns: [], log: [],
    }),
    onMessage: (s, from, m, out, ctx) => {
      if (s.failed) return s;
      switch (m.kind) {
        case 'write': {
          if (m.epoch < s.epoch) return s; // fenced: a writer of an older epoch
          let n = m.epoch > s.epoch ? { ...s, epoch: m.epoch } : s;
          n = attach(n, m.rec);
          // Fold only a chain that is this writer's (its head of this epoch): its VDL says nothing of a stale branch.
          if (ctx.params.coalesce && sclIn(n, m.epoch) > 0) n = coalesce(n, m.vdl);
          // Acknowledge a change, and a duplicate (the first acknowledgement may have been lost).
          if (n !== s || s.log.some((x) => x.lsn === m.rec.lsn && x.epoch === m.rec.epoch)) {
            out.send(from, { kind: 'ack', epoch: n.epoch, scl: sclIn(n, n.epoch) });
          }
          return n;
        }
        case 'read': {
          // The new epoch fences the old writer at once. Answered when the epoch is new, and again
          // while nothing of it has arrived (for a writer whose first answer was lost).
          if (m.epoch < s.epoch || (m.epoch === s.epoch && s.log.some((r) => r.epoch === s.epoch))) return s;
          const n = m.epoch > s.epoch ? { ...s, epoch: m.epoch } : s;
          out.send(from, {
            kind: 'state', epoch: m.epoch,
            reply: { mepoch: n.mepoch, config: n.config, cut: n.cut, base: n.base, baseEpoch: n.baseEpoch, txns: n.txns, log: n.log },
          });
          return n;
        }
        case 'bump': {
          if (m.epoch < s.epoch) return s;
          let n = m.epoch > s.epoch ? { ...s, epoch: m.epoch } : s;
          if (m.mepoch > n.mepoch) n = { ...n, mepoch: m.mepoch, config: m.config };
          out.send(from, { kind: 'bumped', epoch: m.epoch, mepoch: m.mepoch, scl: sclIn(n, m.epoch) });
          return n;
        }
        case 'fill': {
          let n = s;
          if (m.base > scl(n)) n = { ...n, base: m.base, baseEpoch: m.baseEpoch, txns: m.txns, log: n.log.filter((r) => r.lsn > m.base) };
          for (const r of m.recs) n = attach(n, r);
          if (n === s) return s;
          out.send(ctx.nodes('writer')[0]!, { kind: 'ack', epoch: n.epoch, scl: sclIn(n, n.epoch) });
          return n;
        }
        case 'ack': case 'state': case 'bumped': case 'batch':
          return s;
        default:
          return unreachable(m);
      }
    },
    actions: {
      /**
       * The segment is lost for good, with its data (s1..s`failures`). Only once it holds a
       * record: losing an empty segment is the same as never hearing from it, which the set
       * network already allows (and the durability property then asks more of the others).
       */
      fail: {
        when: (s, ctx) => !s.failed && ctx.index < ctx.params.failures && (s.log.length > 0 || s.base > 0),
        do: () => ({ failed: true, epoch: 0, mepoch: 0, config: { old: [], neu: [] }, cut: NO_CUT, base: 0, baseEpoch: 0, txns: [], log: [] }),
      },
      /** Gossip: send this segment's chain to a peer (it takes what extends its own). */
      gossip: {
        choices: (_s, ctx) => ctx.nodes('storage').filter((n) => n !== ctx.self),
        when: (s, ctx, n: NodeId) => {
          if (s.failed) return false;
          const mode = gossipMode(ctx.params);
          if (mode === 'off' || !members(s.config).includes(ctx.self)) return false;
          if (mode === 'join' && !(s.config.neu.includes(n) && !s.config.old.includes(n))) return false;
          if (mode === 'all' && !members(s.config).includes(n)) return false;
          return s.log.length > 0 || s.base > 0;
        },
        do: (s, out, _ctx, n: NodeId) => {
          out.send(n, { kind: 'fill', epoch: s.epoch, base: s.base, baseEpoch: s.baseEpoch, txns: s.txns, recs: chain(s, head(s)) });
          return s;
        },
        timerMs: [30, 60],
      },
    },
  });
}

// ---------------------------------------------------------------- the read replicas

const replica = spec.role(Replica)({
  count: (p) => p.replicas,
  init: () => ({ applied: 0, appliedEpoch: 0, txns: [] }),
  onMessage: (s, _from, m) => {
    if (m.kind !== 'batch' || m.to <= s.applied) return s;
    let txns = s.txns;
    let applied = s.applied;
    if (applied < m.from) {
      if (m.snap === null) return s; // a gap: wait for a batch that covers it
      txns = m.snap;
      applied = m.from;
    }
    for (const r of m.recs) if (r.lsn > applied && r.lsn <= m.to && r.cpl) txns = addTxn(txns, r.txn);
    return { applied: m.to, appliedEpoch: m.toEpoch, txns };
  },
});

// ---------------------------------------------------------------- properties

/** The commits acknowledged to clients so far, as log positions. */
export function acked(w: WorldReader): Pos[] {
  const out: Pos[] = [];
  for (const e of w.history()) {
    if (e.kind !== 'return') continue;
    const r = e.result as Result;
    if (r.kind === 'committed') out.push({ lsn: r.lsn, epoch: r.epoch });
  }
  return out;
}

/**
 * What a reader may have seen: acknowledged commits, the replicas' positions, and the points up to
 * which segments folded the log into their pages.
 */
function visible(w: WorldReader): Pos[] {
  const out = acked(w);
  for (const r of w.states<Replica>('replica')) if (r.applied > 0) out.push({ lsn: r.applied, epoch: r.appliedEpoch });
  for (const s of w.states<Storage>('storage')) if (s.base > 0 && !s.failed) out.push({ lsn: s.base, epoch: s.baseEpoch });
  return out;
}

/** The newest configuration anywhere (the one a recovery would adopt). */
function newestConfig(w: WorldReader): Config {
  const wr = w.states<Writer>('writer')[0]!;
  let config = wr.config;
  let mepoch = wr.mepoch;
  for (const s of w.states<Storage>('storage')) if (!s.failed && s.mepoch > mepoch) ({ mepoch, config } = s);
  return config;
}

const durable = invariant('no acknowledged commit is lost: every read quorum (3/6) of surviving segments holds it (AZ+1)', (w: WorldReader) => {
  const seen = visible(w);
  if (seen.length === 0) return true;
  const segs = new Map<NodeId, Storage>(w.nodes('storage').map((id) => [id, w.node<Storage>(id)]));
  const config = newestConfig(w);
  const live = (n: NodeId): boolean => !segs.get(n)!.failed;
  return seen.every((p) => !missableBy(config, live, (n) => holds(segs.get(n)!, p), AURORA.read));
});

const recoveredKeepsAcked = invariant('a recovered writer keeps every commit acknowledged before it (recovered VDL ≥ its LSN)', (w: WorldReader) => {
  const wr = w.states<Writer>('writer')[0]!;
  if (wr.phase !== 'open') return true;
  return visible(w).every((p) => p.epoch >= wr.epoch || p.lsn <= wr.floor);
});

const oneChain = invariant('a segment holds one backlink chain below its SCL: no stale record among what it would apply', (w: WorldReader) =>
  w.all<Storage>('storage', (s) => {
    if (s.failed || s.log.length === 0) return true;
    const h = head(s);
    const on = new Set(chain(s, h).map((r) => key(r.lsn, r.epoch)));
    return s.log.every((r) => r.lsn > h.lsn || on.has(key(r.lsn, r.epoch)));
  }));

const wholeMtrs = invariant('no torn mini-transaction: on a segment\'s chain, every record but the last CPL\'s successors belongs to a whole MTR', (w: WorldReader) =>
  w.all<Storage>('storage', (s) => {
    if (s.failed) return true;
    const c = chain(s, head(s));
    // Every non-CPL record that is not the chain's tip is followed by the next record of its MTR.
    for (let i = 0; i + 1 < c.length; i++) {
      const r = c[i]!;
      const nx = c[i + 1]!;
      if (!r.cpl && !(nx.lsn === r.lsn + 1 && nx.epoch === r.epoch)) return false;
    }
    return true;
  }));

/** Whether `recs` (a chain, lowest first) is whole MTRs: each non-CPL record is followed by the next of its MTR, and the last is a CPL. */
function whole(recs: readonly Rec[]): boolean {
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i]!;
    if (r.cpl) continue;
    const nx = recs[i + 1];
    if (!nx || nx.lsn !== r.lsn + 1 || nx.epoch !== r.epoch) return false;
  }
  return true;
}

const writerAtCpl = invariant('the writer\'s log (the recovered prefix, then its own MTRs) ends at a consistency point', (w: WorldReader) => {
  const wr = w.states<Writer>('writer')[0]!;
  return wr.phase !== 'open' || whole(wr.tail);
});

function properties(p: P) {
  return [
    durable,
    recoveredKeepsAcked,
    oneChain,
    wholeMtrs,
    writerAtCpl,
    reachable('a commit is acknowledged', (w: WorldReader) => acked(w).length > 0),
    ...(p.writerCrashes > 0
      ? [reachable('a recovered writer acknowledges a commit', (w: WorldReader) => acked(w).some((a) => a.epoch > 1))]
      : []),
    ...(p.failures >= 3
      ? [reachable('AZ+1: three segments lost after a commit was acknowledged', (w: WorldReader) =>
        acked(w).length > 0 && w.count<Storage>('storage', (s) => s.failed) >= 3)]
      : []),
    ...(p.replicas > 0 ? [reachable('a replica applies a commit', (w: WorldReader) => w.any<Replica>('replica', (r) => r.txns.length > 0))] : []),
    ...(p.membership
      ? [reachable('a segment is replaced: dual quorums, then the new set alone', (w: WorldReader) => w.states<Writer>('writer')[0]!.change === 'done')]
      : []),
  ];
}

// ---------------------------------------------------------------- the protocol

export default spec.define({
  roles: { writer: writer(correctRules), storage: storage(), replica },
  clients: {
    count: (p) => p.clients,
    target: 'writer',
    ops: () => [{ kind: 'commit', txn: 1 }],
    opsPerClient: (p) => p.opsPerClient,
  },
  properties,
  variants: {
    'write-quorum-3': {
      doc: 'The writer counts a write durable at 3/6: a commit acknowledged on 3 segments is on none of the other 3, a read quorum that an AZ+1 loss leaves (durability). Breaks the quorum rule V_w > V/2, V_r + V_w > V of SIGMOD 2017 §2.1.',
      expose: { params: { failures: 0, replicas: 0, writerCrashes: 0 } },
      roles: { writer: writer({ ...correctRules, writeQuorum: 3 }) },
    },
    'read-quorum-2': {
      doc: 'Recovery reads 2/6 segments: they can both miss a commit on 4/6 (2 + 4 = 6), and the recovered VDL truncates it (recovery keeps acknowledged commits). Breaks V_r + V_w > V (SIGMOD 2017 §2.1; recovery reads a read quorum, SIGMOD 2018 §2.4).',
      expose: { params: { failures: 0, replicas: 0 } },
      roles: { writer: writer({ ...correctRules, readQuorum: 2 }) },
    },
    'ack-before-vdl': {
      doc: 'The writer acknowledges a commit as soon as it sends its records, before VDL reaches it: a crash now loses it (durability; on the executor the commit is missing after the restart). Breaks the commit rule of SIGMOD 2018 §2.3 (acknowledge only once VDL ≥ the commit LSN).',
      expose: { params: { failures: 0, replicas: 0, writerCrashes: 0 } },
      roles: { writer: writer({ ...correctRules, ackAtVdl: false }) },
    },
    'no-truncate': {
      doc: 'A recovered writer continues the log from the VCL instead of the VDL, keeping what lies above the VDL: the recovered log ends inside a torn mini-transaction, and the next commit would build on it (the writer\'s log ends at a CPL). Breaks the truncation of SIGMOD 2017 §4.3 / SIGMOD 2018 §2.4 (everything above the recovered VDL is truncated).',
      expose: { params: { mtrRecords: 2, failures: 0, replicas: 0 } },
      roles: { writer: writer({ ...correctRules, truncate: false }) },
    },
    'no-epoch-bump': {
      doc: "Recovery keeps the volume epoch: segments cannot tell the old writer's late writes from the new writer's, and a stale record lands below the new log's head (one chain). Breaks the volume epochs of SIGMOD 2018 §2.4 (recovery increments the epoch; storage refuses older ones).",
      expose: { params: { clients: 2, failures: 0, replicas: 0, lal: 1 } },
      roles: { writer: writer({ ...correctRules, bumpEpoch: false }) },
    },
    'single-quorum-membership': {
      doc: 'Replacing F by G switches straight to ABCDEG with a single quorum: a commit on ABCD EF-side segments is on only 3 of ABCDEG, and G is empty (durability across the change). Breaks the dual quorums of SIGMOD 2018 §4 (ABCDEF → ABCDEF/ABCDEG → ABCDEG).',
      expose: { params: { membership: true, failures: 0, replicas: 0, writerCrashes: 0 } },
      roles: { writer: writer({ ...correctRules, dualQuorum: false }) },
    },
  },
});

export type { Writer as AuroraWriter, Storage as AuroraStorage, Replica as AuroraReplica, Op as AuroraOp, Result as AuroraResult, Msg as AuroraMsg };
