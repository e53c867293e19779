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
 * counters are part of the state. So here one TLA+ action is one event (one choice of its
 * process's action): the TM's choice (label TS) and its write (TC/TA) are two steps, as are its
 * failure (F1/F2) and the BTM's choice (BTS) and write (BTC/BTA); an RM that has decided takes one more step to leave its loop (pc Done).
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
 * failure and the BTM's takeover all happen. Termination (`<>(\A self \in ProcSet: pc[self] =
 * "Done")`) is the liveness property, under the module's fairness: `WF_vars(RManager(self))` for
 * each RM, `WF_vars(TManager)`, `WF_vars(BTManager)`. pacta's fairness class is (node, action),
 * so each process is one action (`rm1`, `rm2`, ..., `tm`, `btm`) whose choices are its steps, all
 * weakly fair. TLC and pacta agree: it holds at the cfg (the TM may fail), it is violated with
 * TMMAYFAIL = FALSE (see bench/liveness-tla/README.md). Not modeled (as in the TLA+ module):
 * messages.
 */
import { eventually, invariant, protocol, reachable, setAt, t } from '../core/index.ts';

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
  params: { rms: { default: 3, min: 1, max: 8 }, rmMayFail: true as boolean, tmMayFail: true as boolean }, // 8: MAX_RMS, the rm actions declared below
  // No messages: the processes share variables (see the doc comment).
  messages: t.union('kind', { none: {} }),
});

/** The TM (or BTM) may commit: every RM prepared, or one already committed (the other TM decided). */
const canCommit = (s: State): boolean => s.rm.every((r) => r === 'prepared') || s.rm.includes('committed');
/** The TM (or BTM) may abort: some RM aborted or failed, and none committed. */
const canAbort = (s: State): boolean => s.rm.some((r) => r === 'aborted' || r === 'failed') && !s.rm.includes('committed');
/** An RM still in its loop. */
const looping = (r: Rm): boolean => r === 'working' || r === 'prepared';

const withRm = (s: State, i: number, r: Rm): State => ({ ...s, rm: setAt(s.rm, i, r) });

/**
 * The most RMs a model may have: each RM is a process of its own with its own fairness class
 * (TLA+ `\A self \in RM : WF_vars(RManager(self))`), and pacta's class is (node, action), so each
 * RM gets an action of its own (`rm1`, `rm2`, ...) whose choices are the steps of its loop.
 */
const MAX_RMS = 8;

/** One iteration of RM i's loop (label RS), by the step it takes. */
type RmStep = 'prepare' | 'commit' | 'abort' | 'fail' | 'exit';
const rmSteps = ['prepare', 'commit', 'abort', 'fail', 'exit'] as const;
const rmEnabled = (s: State, i: number, step: RmStep): boolean => {
  if (i >= s.rm.length || s.rmDone[i]) return false;
  const r = s.rm[i]!;
  switch (step) {
    case 'prepare':
      return r === 'working';
    case 'commit':
      return looping(r) && s.tm === 'commit';
    case 'abort':
      return r === 'working' || (r === 'prepared' && s.tm === 'abort');
    case 'fail':
      return looping(r);
    case 'exit':
      return !looping(r);
  }
};
const rmStep = (s: State, i: number, step: RmStep, rmMayFail: boolean): State => {
  switch (step) {
    case 'prepare':
      return withRm(s, i, 'prepared');
    case 'commit':
      return withRm(s, i, 'committed');
    case 'abort':
      return withRm(s, i, 'aborted');
    case 'fail':
      // At most one RM fails; otherwise the step changes nothing (the same object: no new state,
      // and for fairness not a step: TLA+'s <<RManager(self)>>_vars).
      return rmMayFail && !s.rm.includes('failed') ? withRm(s, i, 'failed') : s;
    case 'exit':
      return { ...s, rmDone: setAt(s.rmDone, i, true) };
  }
};

type Params = { rms: number; rmMayFail: boolean; tmMayFail: boolean };
type RmAction = {
  fair: 'weak';
  choices: () => readonly RmStep[];
  when: (s: State, ctx: { params: Params }, step: RmStep) => boolean;
  do: (s: State, out: unknown, ctx: { params: Params }, step: RmStep) => State;
};
const rmActions: Record<string, RmAction> = {};
for (let i = 0; i < MAX_RMS; i++) {
  rmActions[`rm${i + 1}`] = {
    fair: 'weak',
    choices: () => rmSteps,
    when: (s, _ctx, step) => rmEnabled(s, i, step),
    do: (s, _out, ctx, step) => rmStep(s, i, step, ctx.params.rmMayFail),
  };
}

/** The TM's steps (labels TS, TC/TA, F1/F2): one process, one fairness class (WF_vars(TManager)). */
type TmStep = 'choose-commit' | 'choose-abort' | 'decide' | 'fail';
/** The BTM's steps (labels BTS, BTC/BTA): WF_vars(BTManager). */
type BtmStep = 'choose-commit' | 'choose-abort' | 'decide';

const system = spec.role(State)({
  count: 1,
  init: (ctx) => {
    if (ctx.params.rms > MAX_RMS) throw new Error(`two-phase-btm-tla models at most ${MAX_RMS} RMs`);
    return {
      rm: Array.from({ length: ctx.params.rms }, () => 'working' as const),
      rmDone: Array.from({ length: ctx.params.rms }, () => false),
      tm: 'init',
      tmPc: 'TS',
      btmPc: 'BTS',
    };
  },
  actions: {
    // --- RM i, label RS: one iteration of its loop (rm1, rm2, ...) ------------------------------
    ...rmActions,
    // --- the TM ---------------------------------------------------------------------------------
    tm: {
      fair: 'weak',
      choices: () => ['choose-commit', 'choose-abort', 'decide', 'fail'] as const,
      when: (s, _ctx, step: TmStep) => {
        switch (step) {
          // Label TS: wait until a decision is possible, and pick it.
          case 'choose-commit':
            return s.tmPc === 'TS' && canCommit(s);
          case 'choose-abort':
            return s.tmPc === 'TS' && canAbort(s);
          // Labels TC / TA: write the decision.
          case 'decide':
            return s.tmPc === 'TC' || s.tmPc === 'TA';
          // Labels F1 / F2: the TM may fail after deciding, hiding its decision.
          case 'fail':
            return s.tmPc === 'F1' || s.tmPc === 'F2';
        }
      },
      do: (s, _out, ctx, step: TmStep) => {
        switch (step) {
          case 'choose-commit':
            return { ...s, tmPc: 'TC' };
          case 'choose-abort':
            return { ...s, tmPc: 'TA' };
          case 'decide':
            return s.tmPc === 'TC' ? { ...s, tm: 'commit', tmPc: 'F1' } : { ...s, tm: 'abort', tmPc: 'F2' };
          case 'fail':
            return { ...s, tm: ctx.params.tmMayFail ? 'hidden' : s.tm, tmPc: 'Done' };
        }
      },
    },
    // --- the backup TM --------------------------------------------------------------------------
    btm: {
      fair: 'weak',
      choices: () => ['choose-commit', 'choose-abort', 'decide'] as const,
      when: (s, _ctx, step: BtmStep) => {
        switch (step) {
          // Label BTS: once the TM is hidden, pick a decision by the same conditions.
          case 'choose-commit':
            return s.btmPc === 'BTS' && s.tm === 'hidden' && canCommit(s);
          case 'choose-abort':
            return s.btmPc === 'BTS' && s.tm === 'hidden' && canAbort(s);
          // Labels BTC / BTA: write it.
          case 'decide':
            return s.btmPc === 'BTC' || s.btmPc === 'BTA';
        }
      },
      do: (s, _out, _ctx, step: BtmStep) => {
        switch (step) {
          case 'choose-commit':
            return { ...s, btmPc: 'BTC' };
          case 'choose-abort':
            return { ...s, btmPc: 'BTA' };
          case 'decide':
            return { ...s, tm: s.btmPc === 'BTC' ? 'commit' : 'abort', btmPc: 'Done' };
        }
      },
    },
  },
});

const only = (w: { states<S>(role: string): S[] }): State => w.states<State>('system')[0]!;

export default spec.define({
  roles: { system },
  properties: (p) => [
    // TLA+ Termination == <>(\A self \in ProcSet: pc[self] = "Done"), under the module's fairness
    // (each RM, the TM and the BTM weakly fair; see the actions). It holds with the TM allowed to
    // fail; with TMMAYFAIL = FALSE the BTM never acts (it waits for a hidden TM), its pc is never
    // Done, and TLC reports it violated: so does pacta (a lasso whose loop is the final state).
    eventually('Termination: every process is done', (w) => {
      const s = only(w);
      return s.rmDone.every((d) => d) && s.tmPc === 'Done' && s.btmPc === 'Done';
    }),
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
