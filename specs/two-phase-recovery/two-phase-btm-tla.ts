/**
 * Two-phase commit with a backup transaction manager, shaped like 2PCwithBTM.tla (TLA+ Examples,
 * transaction_commit/; Murat Demirbas's PlusCal variant of Lamport's P2TCommit) so that its
 * state graph is TLC's: 1,245 distinct states for 3 RMs with RMs and TM allowed to fail (the
 * model's 2PCwithBTM.cfg), the cross-check of `two-phase-recovery`.
 *
 * The model. Three kinds of process share two variables: each RM's state (working, prepared,
 * committed, aborted, failed) and the TM's (init, commit, abort, hidden). An RM, while working or
 * prepared, may prepare (working only), commit if the TM says commit, abort if it has not
 * prepared or the TM says abort, or fail (at most one RM ever fails; a failed RM never comes
 * back). The TM waits until it can commit (every RM prepared, or one already committed: the
 * backup may have taken over) or abort (some RM aborted or failed and none committed), picks
 * one, writes it, and then may fail, which hides its decision ("hidden"). The backup TM (BTM)
 * acts only once the TM is hidden: it re-evaluates the same conditions and writes a decision.
 * The decision is thus never lost for good: a prepared RM is blocked only while the TM is
 * hidden and the BTM has not decided, which is what `two-phase-recovery` models with messages,
 * a decision log and crash/restart.
 *
 * Granularity. The TLA+ module is PlusCal: each label is one atomic step, and the program
 * counters are part of the state. So here one TLA+ action is one event: the TM's choice (label
 * TS) and its write (TC/TA) are two steps, as are its failure (F1/F2) and the BTM's choice (BTS)
 * and write (BTC/BTA); an RM that has decided takes one more step to leave its loop (pc Done).
 * An RM's failure attempt when another RM has already failed changes nothing (a stuttering step,
 * not a new state), as in the module.
 *
 * Why one node. The processes communicate through shared variables (the TM's guard reads every
 * RM's state; an RM's reads the TM's), which pacta's actor roles cannot read from one another:
 * modeling the reads as messages adds states TLC does not have (who has heard what). So the whole
 * module state is the state of a single node and every TLA+ action is one of its local actions;
 * the world adds nothing (no messages, no crashes), and the distinct states are TLC's. This is a
 * cross-check of the explorer on the same state graph; the protocol itself, with messages, a
 * durable decision log and real crashes, is `two-phase-recovery.ts`.
 *
 * Properties: TypeOK holds by construction (the schema); Consistency (no RM aborted while
 * another committed) is the invariant; reachable goals make sure commits, aborts, the TM's
 * failure and the BTM's takeover all happen. Not modeled (as in the TLA+ module): messages, the
 * fairness that makes the algorithm terminate (Termination is a liveness property).
 */
import { invariant, protocol, reachable, setAt, t } from '../core/index.ts';

const Rm = t.enum('working', 'prepared', 'committed', 'aborted', 'failed');
type Rm = typeof Rm.__type;

const State = t.struct({
  /** rmState: each RM's state. */
  rm: t.array(Rm),
  /** Each RM's program counter: still in its loop (RS) or done. */
  rmDone: t.array(t.bool),
  /** tmState, written by the TM and, once it is hidden, by the BTM. */
  tm: t.enum('init', 'commit', 'abort', 'hidden'),
  /** The TM's program counter (PlusCal labels). */
  tmPc: t.enum('TS', 'TC', 'TA', 'F1', 'F2', 'Done'),
  /** The BTM's program counter. */
  btmPc: t.enum('BTS', 'BTC', 'BTA', 'Done'),
});
type State = typeof State.__type;

const spec = protocol({
  name: 'two-phase-btm-tla',
  doc: '2PC with a backup TM, shaped like 2PCwithBTM.tla (one node holds the module state): 1,245 states for 3 RMs, as TLC.',
  params: { rms: 3, rmMayFail: true as boolean, tmMayFail: true as boolean },
  // No messages: the processes share variables (see the doc comment).
  messages: t.union('kind', { none: {} }),
});

/** The TM (or BTM) may commit: every RM prepared, or one already committed (the other TM decided). */
const canCommit = (s: State): boolean => s.rm.every((r) => r === 'prepared') || s.rm.includes('committed');
/** The TM (or BTM) may abort: some RM aborted or failed, and none committed. */
const canAbort = (s: State): boolean => s.rm.some((r) => r === 'aborted' || r === 'failed') && !s.rm.includes('committed');
/** An RM still in its loop. */
const looping = (r: Rm): boolean => r === 'working' || r === 'prepared';

const rmIndices = (_s: State, ctx: { params: { rms: number } }): readonly number[] => Array.from({ length: ctx.params.rms }, (_, i) => i);
const withRm = (s: State, i: number, r: Rm): State => ({ ...s, rm: setAt(s.rm, i, r) });

const system = spec.role(State)({
  count: 1,
  init: (ctx) => ({
    rm: Array.from({ length: ctx.params.rms }, () => 'working' as const),
    rmDone: Array.from({ length: ctx.params.rms }, () => false),
    tm: 'init',
    tmPc: 'TS',
    btmPc: 'BTS',
  }),
  actions: {
    // --- RM i, label RS: one iteration of its loop -------------------------------------------
    rmPrepare: {
      choices: rmIndices,
      when: (s, _ctx, i: number) => !s.rmDone[i] && s.rm[i] === 'working',
      do: (s, _out, _ctx, i: number) => withRm(s, i, 'prepared'),
    },
    rmCommit: {
      choices: rmIndices,
      when: (s, _ctx, i: number) => !s.rmDone[i] && looping(s.rm[i]!) && s.tm === 'commit',
      do: (s, _out, _ctx, i: number) => withRm(s, i, 'committed'),
    },
    rmAbort: {
      choices: rmIndices,
      when: (s, _ctx, i: number) => !s.rmDone[i] && (s.rm[i] === 'working' || (s.rm[i] === 'prepared' && s.tm === 'abort')),
      do: (s, _out, _ctx, i: number) => withRm(s, i, 'aborted'),
    },
    rmFail: {
      choices: rmIndices,
      when: (s, _ctx, i: number) => !s.rmDone[i] && looping(s.rm[i]!),
      // At most one RM fails; otherwise the step changes nothing (the same object: no new state).
      do: (s, _out, ctx, i: number) => (ctx.params.rmMayFail && !s.rm.includes('failed') ? withRm(s, i, 'failed') : s),
    },
    rmExit: {
      choices: rmIndices,
      when: (s, _ctx, i: number) => !s.rmDone[i] && !looping(s.rm[i]!),
      do: (s, _out, _ctx, i: number) => ({ ...s, rmDone: setAt(s.rmDone, i, true) }),
    },
    // --- the TM ---------------------------------------------------------------------------------
    /** Label TS: wait until a decision is possible, and pick it. */
    tmChoose: {
      choices: () => ['commit', 'abort'] as const,
      when: (s, _ctx, d: 'commit' | 'abort') => s.tmPc === 'TS' && (d === 'commit' ? canCommit(s) : canAbort(s)),
      do: (s, _out, _ctx, d: 'commit' | 'abort') => ({ ...s, tmPc: d === 'commit' ? 'TC' : 'TA' }),
    },
    /** Labels TC / TA: write the decision. */
    tmDecide: {
      when: (s) => s.tmPc === 'TC' || s.tmPc === 'TA',
      do: (s) => (s.tmPc === 'TC' ? { ...s, tm: 'commit', tmPc: 'F1' } : { ...s, tm: 'abort', tmPc: 'F2' }),
    },
    /** Labels F1 / F2: the TM may fail after deciding, hiding its decision. */
    tmFail: {
      when: (s) => s.tmPc === 'F1' || s.tmPc === 'F2',
      do: (s, _out, ctx) => ({ ...s, tm: ctx.params.tmMayFail ? 'hidden' : s.tm, tmPc: 'Done' }),
    },
    // --- the backup TM --------------------------------------------------------------------------
    /** Label BTS: once the TM is hidden, pick a decision by the same conditions. */
    btmChoose: {
      choices: () => ['commit', 'abort'] as const,
      when: (s, _ctx, d: 'commit' | 'abort') => s.btmPc === 'BTS' && s.tm === 'hidden' && (d === 'commit' ? canCommit(s) : canAbort(s)),
      do: (s, _out, _ctx, d: 'commit' | 'abort') => ({ ...s, btmPc: d === 'commit' ? 'BTC' : 'BTA' }),
    },
    /** Labels BTC / BTA: write it. */
    btmDecide: {
      when: (s) => s.btmPc === 'BTC' || s.btmPc === 'BTA',
      do: (s) => ({ ...s, tm: s.btmPc === 'BTC' ? 'commit' : 'abort', btmPc: 'Done' }),
    },
  },
});

const only = (w: { states<S>(role: string): S[] }): State => w.states<State>('system')[0]!;

export default spec.define({
  roles: { system },
  properties: (p) => [
    invariant('Consistency: no RM aborted while another committed', (w) => {
      const s = only(w);
      return !(s.rm.includes('aborted') && s.rm.includes('committed'));
    }),
    reachable('every RM commits', (w) => only(w).rm.every((r) => r === 'committed')),
    reachable('an RM aborts', (w) => only(w).rm.includes('aborted')),
    // The backup acts only once the TM has failed.
    ...(p.tmMayFail
      ? [
          reachable('an RM aborts after the BTM took over', (w) => {
            const s = only(w);
            return s.btmPc === 'Done' && s.tm === 'abort' && s.rm.includes('aborted');
          }),
          reachable('an RM commits after the BTM took over', (w) => {
            const s = only(w);
            return s.btmPc === 'Done' && s.tm === 'commit' && s.rm.includes('committed');
          }),
          reachable('blocked: the TM is hidden and a prepared RM waits for the BTM', (w) => {
            const s = only(w);
            return s.tm === 'hidden' && s.rm.includes('prepared');
          }),
        ]
      : []),
  ],
});
