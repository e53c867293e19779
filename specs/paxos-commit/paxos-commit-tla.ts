/**
 * Paxos Commit shaped like PaxosCommit.tla (Gray & Lamport, "Consensus on Transaction Commit",
 * 2006; TLA+ Examples, transaction_commit/), so that its state graph is TLC's: with the model's
 * PaxosCommit.cfg (2 RMs, 3 acceptors, majorities of 2, ballots {0, 1}) 1,321,761 distinct
 * states. The cross-check and performance anchor of `paxos-commit`.
 *
 * The model, as the TLA+ module has it. Each RM's vote is decided by its own Paxos instance
 * (paxos.ts). An RM prepares or aborts by sending the ballot-0 phase 2a message of its instance
 * with its vote; it commits or aborts once the leader's Commit or Abort message exists. Leader
 * actions belong to nobody in particular (leader election is not modeled; several leaders may
 * act at once): Phase1a(b, rm) starts ballot b > 0 of an instance; Phase2a(b, rm) proposes, once
 * a majority's phase 1b messages for b exist and no phase 2a for b was sent, the value those
 * reports force (`valueToPropose`); Decide sends Commit when every instance has chosen
 * `prepared` (a majority accepted it in one ballot), Abort when some instance chose `aborted`.
 * Acceptor actions: Phase1b answers a phase 1a message above its promise; Phase2b accepts a phase
 * 2a message at or above it. Messages are never received explicitly: an action is enabled when
 * the messages it needs have been sent (`msgs` only grows), so one TLA+ action is one event here.
 *
 * Why one node. That implicit receipt (a leader's guard reads the set of every message sent, e.g.
 * a majority's phase 1b messages) is not something pacta's actor roles can do: a role learns of a
 * message by handling it, which adds the states TLC does not have (who has received what). So the
 * module's variables (rmState, aState, msgs) are the state of a single node and each TLA+ action
 * is one of its local actions; the world adds nothing. The acceptor rules are the same functions
 * the actor protocol `paxos-commit.ts` runs (paxos.ts). `msgs` is a bit set over the finite
 * universe of messages the params allow (the layout below), which keeps a state at 3 words of
 * messages for the default model; `describeMessages` decodes it for reading.
 *
 * Properties: the module states only PCTypeOK (the schema holds it) and that PCSpec implements
 * TCommit; checked here: TCConsistent (no RM committed while another aborted), Commit and Abort
 * never both sent, a commit only if every RM prepared, and reachable goals (commit, abort, a
 * value chosen in ballot 1). Not modeled (as in the module): leader election, liveness.
 */
import { invariant, protocol, reachable, setAt, t, type Ctx } from '../core/index.ts';
import { accept, correctAcceptor, initialInstance, majority, minimalMajorities, promise, valueToPropose, type AcceptorInstance, type AcceptorRules, Value } from './paxos.ts';

const Rm = t.enum('working', 'prepared', 'committed', 'aborted');

const State = t.struct({
  /** rmState. */
  rm: t.array(Rm),
  /** aState[ins][acc] as three columns indexed by ins × acceptors + acc (cheaper to pack than records). */
  mbal: t.array(t.u32),
  bal: t.array(t.int),
  val: t.array(Value),
  /** msgs: the messages ever sent, as a bit set over the layout's universe (32 per word). */
  msgs: t.array(t.u32),
});
type State = typeof State.__type;

const spec = protocol({
  name: 'paxos-commit-tla',
  doc: 'Paxos Commit shaped like PaxosCommit.tla (one node holds the module state): 1,321,761 states with its cfg, as TLC.',
  // Ranges: `msgs` is a bit set over every message the params allow (rms × acceptors × ballots²
  // of them): at the maxima a state's set stays under 20 KB.
  params: { rms: { default: 2, min: 1, max: 16 }, acceptors: { default: 3, min: 1, max: 16 }, maxBallot: { default: 1, min: 0, max: 16 } },
  // No messages between nodes: `msgs` is part of the one node's state (see the doc comment).
  messages: t.union('kind', { none: {} }),
});

type Vote = 'prepared' | 'aborted';
const votes: readonly Vote[] = ['prepared', 'aborted'];
const voteBit = (v: Value): number => (v === 'aborted' ? 1 : 0);

/**
 * Where each message lives in the bit set. For R RMs, A acceptors and ballots 0..B-1:
 * phase1a (ins, bal ≥ 1); phase1b (ins, acc, mbal ≥ 1, report) where the report is the
 * acceptor's last (bal, val), slot 0 for nothing accepted and 1 + 2·bal + vote otherwise;
 * phase2a (ins, bal, val); phase2b (ins, acc, bal, val); Commit; Abort.
 */
class Layout {
  readonly R: number;
  readonly A: number;
  readonly B: number;
  readonly reports: number;
  readonly p1a: number;
  readonly p1b: number;
  readonly p2a: number;
  readonly p2b: number;
  readonly commit: number;
  readonly abort: number;
  readonly words: number;
  readonly quorum: number;
  readonly majorities: number[][];
  /** The action arguments, built once. */
  readonly rmArgs: number[];
  readonly p1aArgs: { ins: number; bal: number }[];
  readonly p2aArgs: { ins: number; bal: number; val: Vote }[];
  readonly p1bArgs: { acc: number; ins: number; bal: number }[];
  readonly p2bArgs: { acc: number; ins: number; bal: number; val: Vote }[];

  constructor(p: { rms: number; acceptors: number; maxBallot: number }) {
    this.R = p.rms;
    this.A = p.acceptors;
    this.B = p.maxBallot + 1;
    this.reports = 1 + 2 * this.B;
    this.p1a = 0;
    this.p1b = this.p1a + this.R * (this.B - 1);
    this.p2a = this.p1b + this.R * this.A * (this.B - 1) * this.reports;
    this.p2b = this.p2a + this.R * this.B * 2;
    this.commit = this.p2b + this.R * this.A * this.B * 2;
    this.abort = this.commit + 1;
    this.words = Math.ceil((this.abort + 1) / 32);
    this.quorum = majority(this.A);
    this.majorities = minimalMajorities(this.A);
    const range = (n: number, from = 0) => Array.from({ length: n - from }, (_, i) => i + from);
    this.rmArgs = range(this.R);
    this.p1aArgs = range(this.R).flatMap((ins) => range(this.B, 1).map((bal) => ({ ins, bal })));
    this.p2aArgs = this.p1aArgs.flatMap(({ ins, bal }) => votes.map((val) => ({ ins, bal, val })));
    this.p1bArgs = range(this.A).flatMap((acc) => this.p1aArgs.map(({ ins, bal }) => ({ acc, ins, bal })));
    this.p2bArgs = range(this.A).flatMap((acc) => range(this.R).flatMap((ins) => range(this.B).flatMap((bal) => votes.map((val) => ({ acc, ins, bal, val })))));
  }
  phase1a(ins: number, bal: number): number {
    return this.p1a + ins * (this.B - 1) + (bal - 1);
  }
  phase1b(ins: number, acc: number, mbal: number, bal: number, val: Value): number {
    const report = bal < 0 ? 0 : 1 + 2 * bal + voteBit(val);
    return this.p1b + ((ins * this.A + acc) * (this.B - 1) + (mbal - 1)) * this.reports + report;
  }
  phase2a(ins: number, bal: number, val: Value): number {
    return this.p2a + (ins * this.B + bal) * 2 + voteBit(val);
  }
  phase2b(ins: number, acc: number, bal: number, val: Value): number {
    return this.p2b + ((ins * this.A + acc) * this.B + bal) * 2 + voteBit(val);
  }
}

const layouts = new WeakMap<Ctx, Layout>();
/** The layout of a node's params, built once per node context (ctx is constant for a node: the handlers stay pure). */
function layoutOf(ctx: Ctx): Layout {
  let l = layouts.get(ctx);
  if (!l) layouts.set(ctx, (l = new Layout(ctx.params as { rms: number; acceptors: number; maxBallot: number })));
  return l;
}

const sent = (msgs: readonly number[], bit: number): boolean => ((msgs[bit >>> 5]! >>> (bit & 31)) & 1) === 1;
/** `msgs` with message `bit` added (the same array when it was there). */
function send(msgs: readonly number[], bit: number): readonly number[] {
  if (sent(msgs, bit)) return msgs;
  const out = msgs.slice();
  out[bit >>> 5] = (out[bit >>> 5]! | (1 << (bit & 31))) >>> 0;
  return out;
}

/** Instance `ins` has chosen `val`: a majority sent phase 2b for it in one ballot. */
function chosen(l: Layout, msgs: readonly number[], ins: number, val: Value): boolean {
  for (let bal = 0; bal < l.B; bal++) {
    let n = 0;
    for (let acc = 0; acc < l.A; acc++) if (sent(msgs, l.phase2b(ins, acc, bal, val))) n++;
    if (n >= l.quorum) return true;
  }
  return false;
}

/**
 * Phase2a(bal, ins) may propose `val`: for some majority, every member's phase 1b report for
 * `bal` was sent, and the value those reports force (`valueToPropose`) is `val`.
 */
function proposable(l: Layout, msgs: readonly number[], ins: number, bal: number, val: Vote): boolean {
  const reports: { bal: number; val: Value }[] = [];
  for (const ms of l.majorities) {
    reports.length = 0;
    for (const acc of ms) {
      const r = reportOf(l, msgs, ins, acc, bal);
      if (r < 0) break;
      reports.push(r === 0 ? { bal: -1, val: 'none' } : { bal: (r - 1) >> 1, val: (r - 1) & 1 ? 'aborted' : 'prepared' });
    }
    if (reports.length === ms.length && valueToPropose(reports) === val) return true;
  }
  return false;
}

/**
 * The report slot of the phase 1b message acceptor `acc` sent for (ins, mbal), or -1 when it sent
 * none (it sends at most one: a promise raises its mbal).
 */
function reportOf(l: Layout, msgs: readonly number[], ins: number, acc: number, mbal: number): number {
  const base = l.phase1b(ins, acc, mbal, -1, 'none');
  for (let r = 0; r < l.reports; r++) if (sent(msgs, base + r)) return r;
  return -1;
}

/** Acceptor `acc`'s state for instance `ins`. */
function instanceAt(s: State, l: Layout, ins: number, acc: number): AcceptorInstance {
  const k = ins * l.A + acc;
  return { mbal: s.mbal[k]!, bal: s.bal[k]!, val: s.val[k]! };
}

/** `s` with acceptor `acc`'s state for instance `ins` replaced. */
function withInstance(s: State, l: Layout, ins: number, acc: number, a: AcceptorInstance): State {
  const k = ins * l.A + acc;
  return { ...s, mbal: setAt(s.mbal, k, a.mbal), bal: setAt(s.bal, k, a.bal), val: setAt(s.val, k, a.val) };
}

function model(rules: AcceptorRules) {
  return spec.role(State)({
    count: 1,
    init: (ctx) => {
      const l = layoutOf(ctx);
      return {
        rm: l.rmArgs.map(() => 'working' as const),
        mbal: Array.from({ length: l.R * l.A }, () => initialInstance.mbal),
        bal: Array.from({ length: l.R * l.A }, () => initialInstance.bal),
        val: Array.from({ length: l.R * l.A }, () => initialInstance.val),
        msgs: Array.from({ length: l.words }, () => 0),
      };
    },
    actions: {
      // --- RMs -----------------------------------------------------------------------------------
      /** RMPrepare: vote prepared, as the ballot-0 phase 2a message of its instance. */
      rmPrepare: {
        choices: (_s, ctx) => layoutOf(ctx).rmArgs,
        when: (s, _ctx, rm: number) => s.rm[rm] === 'working',
        do: (s, _out, ctx, rm: number) => ({ ...s, rm: setAt(s.rm, rm, 'prepared'), msgs: send(s.msgs, layoutOf(ctx).phase2a(rm, 0, 'prepared')) }),
      },
      /** RMChooseToAbort: vote aborted the same way. */
      rmChooseToAbort: {
        choices: (_s, ctx) => layoutOf(ctx).rmArgs,
        when: (s, _ctx, rm: number) => s.rm[rm] === 'working',
        do: (s, _out, ctx, rm: number) => ({ ...s, rm: setAt(s.rm, rm, 'aborted'), msgs: send(s.msgs, layoutOf(ctx).phase2a(rm, 0, 'aborted')) }),
      },
      rmRcvCommitMsg: {
        choices: (_s, ctx) => layoutOf(ctx).rmArgs,
        when: (s, ctx, rm: number) => sent(s.msgs, layoutOf(ctx).commit) && s.rm[rm] !== 'committed',
        do: (s, _out, _ctx, rm: number) => ({ ...s, rm: setAt(s.rm, rm, 'committed') }),
      },
      rmRcvAbortMsg: {
        choices: (_s, ctx) => layoutOf(ctx).rmArgs,
        when: (s, ctx, rm: number) => sent(s.msgs, layoutOf(ctx).abort) && s.rm[rm] !== 'aborted',
        do: (s, _out, _ctx, rm: number) => ({ ...s, rm: setAt(s.rm, rm, 'aborted') }),
      },
      // --- leaders (any process that believes it leads) ------------------------------------------
      /** Phase1a(bal, rm): start ballot `bal` > 0 of instance `rm`. */
      phase1a: {
        choices: (_s, ctx) => layoutOf(ctx).p1aArgs,
        when: (s, ctx, a: { ins: number; bal: number }) => !sent(s.msgs, layoutOf(ctx).phase1a(a.ins, a.bal)),
        do: (s, _out, ctx, a: { ins: number; bal: number }) => ({ ...s, msgs: send(s.msgs, layoutOf(ctx).phase1a(a.ins, a.bal)) }),
      },
      /** Phase2a(bal, rm): propose what a majority's phase 1b reports force, once per ballot. */
      phase2a: {
        choices: (_s, ctx) => layoutOf(ctx).p2aArgs,
        when: (s, ctx, a: { ins: number; bal: number; val: Vote }) => {
          const l = layoutOf(ctx);
          if (sent(s.msgs, l.phase2a(a.ins, a.bal, 'prepared')) || sent(s.msgs, l.phase2a(a.ins, a.bal, 'aborted'))) return false;
          return proposable(l, s.msgs, a.ins, a.bal, a.val);
        },
        do: (s, _out, ctx, a: { ins: number; bal: number; val: Vote }) => ({ ...s, msgs: send(s.msgs, layoutOf(ctx).phase2a(a.ins, a.bal, a.val)) }),
      },
      /** Decide: Commit once every instance chose prepared, Abort once one chose aborted. */
      decide: {
        choices: () => ['commit', 'abort'] as const,
        when: (s, ctx, d: 'commit' | 'abort') => {
          const l = layoutOf(ctx);
          if (sent(s.msgs, d === 'commit' ? l.commit : l.abort)) return false;
          return d === 'commit' ? l.rmArgs.every((ins) => chosen(l, s.msgs, ins, 'prepared')) : l.rmArgs.some((ins) => chosen(l, s.msgs, ins, 'aborted'));
        },
        do: (s, _out, ctx, d: 'commit' | 'abort') => {
          const l = layoutOf(ctx);
          return { ...s, msgs: send(s.msgs, d === 'commit' ? l.commit : l.abort) };
        },
      },
      // --- acceptors -----------------------------------------------------------------------------
      /** Phase1b(acc): answer a phase 1a message above the promise with the last accepted ballot and value. */
      phase1b: {
        choices: (_s, ctx) => layoutOf(ctx).p1bArgs,
        when: (s, ctx, a: { acc: number; ins: number; bal: number }) =>
          sent(s.msgs, layoutOf(ctx).phase1a(a.ins, a.bal)) && promise(instanceAt(s, layoutOf(ctx), a.ins, a.acc), a.bal) !== null,
        do: (s, _out, ctx, a: { acc: number; ins: number; bal: number }) => {
          const l = layoutOf(ctx);
          const before = instanceAt(s, l, a.ins, a.acc);
          const bit = l.phase1b(a.ins, a.acc, a.bal, before.bal, before.val);
          return withInstance({ ...s, msgs: send(s.msgs, bit) }, l, a.ins, a.acc, promise(before, a.bal)!);
        },
      },
      /** Phase2b(acc): accept a phase 2a message at or above the promise. */
      phase2b: {
        choices: (_s, ctx) => layoutOf(ctx).p2bArgs,
        when: (s, ctx, a: { acc: number; ins: number; bal: number; val: Vote }) =>
          sent(s.msgs, layoutOf(ctx).phase2a(a.ins, a.bal, a.val)) && accept(instanceAt(s, layoutOf(ctx), a.ins, a.acc), a.bal, a.val, rules) !== null,
        do: (s, _out, ctx, a: { acc: number; ins: number; bal: number; val: Vote }) => {
          const l = layoutOf(ctx);
          const before = instanceAt(s, l, a.ins, a.acc);
          const after = accept(before, a.bal, a.val, rules)!;
          const msgs = send(s.msgs, l.phase2b(a.ins, a.acc, a.bal, a.val));
          if (after === before && msgs === s.msgs) return s;
          return withInstance({ ...s, msgs }, l, a.ins, a.acc, after);
        },
      },
    },
  });
}

/** The messages a state's bit set holds, in TLA+'s record notation (for reading traces and states). */
export function describeMessages(params: { rms: number; acceptors: number; maxBallot: number }, msgs: readonly number[]): string[] {
  const l = new Layout(params);
  const out: string[] = [];
  for (const { ins, bal } of l.p1aArgs) if (sent(msgs, l.phase1a(ins, bal))) out.push(`phase1a ins=${ins} bal=${bal}`);
  for (let ins = 0; ins < l.R; ins++) {
    for (let acc = 0; acc < l.A; acc++) {
      for (let mbal = 1; mbal < l.B; mbal++) {
        const r = reportOf(l, msgs, ins, acc, mbal);
        if (r === 0) out.push(`phase1b ins=${ins} acc=${acc} mbal=${mbal} bal=-1 val=none`);
        else if (r > 0) out.push(`phase1b ins=${ins} acc=${acc} mbal=${mbal} bal=${(r - 1) >> 1} val=${(r - 1) & 1 ? 'aborted' : 'prepared'}`);
      }
    }
  }
  for (let ins = 0; ins < l.R; ins++) for (let bal = 0; bal < l.B; bal++) for (const val of votes) if (sent(msgs, l.phase2a(ins, bal, val))) out.push(`phase2a ins=${ins} bal=${bal} val=${val}`);
  for (const { acc, ins, bal, val } of l.p2bArgs) if (sent(msgs, l.phase2b(ins, acc, bal, val))) out.push(`phase2b ins=${ins} acc=${acc} bal=${bal} val=${val}`);
  if (sent(msgs, l.commit)) out.push('Commit');
  if (sent(msgs, l.abort)) out.push('Abort');
  return out;
}

const only = (w: { states<S>(role: string): S[] }): State => w.states<State>('model')[0]!;
export default spec.define({
  roles: { model: model(correctAcceptor) },
  properties: (p) => {
    const l = new Layout(p);
    return [
      invariant('TCConsistent: no RM committed while another aborted', (w) => {
        const s = only(w);
        return !(s.rm.includes('committed') && s.rm.includes('aborted'));
      }),
      invariant('Commit and Abort are never both sent', (w) => {
        const m = only(w).msgs;
        return !(sent(m, l.commit) && sent(m, l.abort));
      }),
      invariant('a commit only if every RM prepared', (w) => {
        const s = only(w);
        return !sent(s.msgs, l.commit) || l.rmArgs.every((ins) => sent(s.msgs, l.phase2a(ins, 0, 'prepared')));
      }),
      reachable('every RM commits', (w) => only(w).rm.every((r) => r === 'committed')),
      reachable('an RM aborts on Abort', (w) => sent(only(w).msgs, l.abort) && only(w).rm.includes('aborted')),
      // A takeover: some instance chose its vote in ballot 1 (with ballots above 0 at all).
      ...(l.B > 1 ? [reachable('an instance chooses in ballot 1', (w) => l.rmArgs.some((ins) => votes.some((v) => chosenIn(l, only(w).msgs, ins, 1, v))))] : []),
    ];
  },
});

function chosenIn(l: Layout, msgs: readonly number[], ins: number, bal: number, val: Value): boolean {
  let n = 0;
  for (let acc = 0; acc < l.A; acc++) if (sent(msgs, l.phase2b(ins, acc, bal, val))) n++;
  return n >= l.quorum;
}

