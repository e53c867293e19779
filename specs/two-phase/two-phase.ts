/**
 * Two-phase commit, after Lamport's TwoPhase.tla (TLA+ Examples, transaction_commit/).
 *
 * One transaction manager (TM) and N resource managers (RMs). Each RM spontaneously prepares
 * (sending Prepared to the TM) or chooses to abort while still working. The TM collects
 * Prepared messages; once every RM has prepared it may commit, and at any time before deciding
 * it may abort; it broadcasts its decision, which each RM obeys on receipt.
 *
 * Written in actor style: TM and RM are roles, Prepared / Commit / Abort are messages, and the
 * spontaneous steps are local actions. Under the `set` network (a message once sent may be
 * received any number of times, as TwoPhase.tla's `msgs` set) the reachable states map one to
 * one onto TLC's: 288, 1,568, 8,832, 50,816, 296,448 for 3..7 RMs.
 *
 * Not modeled (as in the TLA+ spec): the Prepare request from the TM, timeouts, recovery.
 *
 * Liveness (termination): every RM eventually decides, assuming fair delivery and weakly fair
 * local steps (an RM eventually prepares or aborts; a TM eventually commits or aborts), as
 * TwoPhase.tla's `WF_vars(TPNext)`-style fairness per action. It holds without crashes; with
 * a TM crash and no recovery (`two-phase:blocking`) it does not: 2PC is blocking.
 *
 * Messages are matched with a `switch` on `kind` made exhaustive by `unreachable`: in this
 * hot loop it costs a fraction of ts-pattern's `match` (which allocates per call); both work.
 */
import { add, eventually, invariant, protocol, reachable, t, unreachable } from '../core/index.ts';

const Msg = t.union('kind', {
  prepared: {},
  commit: {},
  abort: {},
});

const TmState = t.struct({
  phase: t.enum('init', 'committed', 'aborted'),
  /** The RMs whose Prepared message the TM has received. */
  prepared: t.set(t.node('rm')),
});

const RmState = t.enum('working', 'prepared', 'committed', 'aborted');

const spec = protocol({
  name: 'two-phase',
  doc: 'Two-phase commit (Lamport, TwoPhase.tla): one TM, N RMs.',
  params: { rms: { default: 3, min: 1, max: 255 } },
  messages: Msg,
});

const tm = spec.role(TmState)({
  count: 1,
  // A real TM logs its decision before sending it: the whole state survives a crash.
  durable: true,
  init: () => ({ phase: 'init', prepared: [] }),
  onMessage: (s, from, m) => {
    switch (m.kind) {
      case 'prepared':
        // A repeated Prepared changes nothing: return `s` itself so the checker sees no step.
        return s.phase === 'init' && !s.prepared.includes(from) ? { ...s, prepared: add(s.prepared, from) } : s;
      case 'commit':
      case 'abort':
        return s;
      default:
        return unreachable(m);
    }
  },
  actions: {
    commit: {
      fair: 'weak',
      when: (s, ctx) => s.phase === 'init' && s.prepared.length === ctx.count('rm'),
      do: (s, out) => {
        out.broadcast('rm', { kind: 'commit' });
        return { ...s, phase: 'committed' };
      },
    },
    abort: {
      fair: 'weak',
      when: (s) => s.phase === 'init',
      do: (s, out) => {
        out.broadcast('rm', { kind: 'abort' });
        return { ...s, phase: 'aborted' };
      },
    },
  },
});

const rm = spec.role(RmState)({
  count: (p) => p.rms,
  symmetric: true,
  // A real RM forces its prepared/commit/abort record to its log: the state survives a crash.
  durable: true,
  init: () => 'working',
  onMessage: (s, _from, m) => {
    switch (m.kind) {
      case 'commit':
        return 'committed';
      case 'abort':
        return 'aborted';
      case 'prepared':
        return s;
      default:
        return unreachable(m);
    }
  },
  actions: {
    prepare: {
      fair: 'weak',
      when: (s) => s === 'working',
      do: (_s, out, ctx) => {
        out.send(ctx.nodes('tm')[0]!, { kind: 'prepared' });
        return 'prepared';
      },
    },
    chooseToAbort: {
      fair: 'weak',
      when: (s) => s === 'working',
      do: () => 'aborted',
    },
  },
});

export default spec.define({
  roles: { tm, rm },
  properties: () => [
    invariant('consistent: no RM committed while another aborted', (w) => !(w.any('rm', 'committed') && w.any('rm', 'aborted'))),
    reachable('some RM commits', (w) => w.any('rm', 'committed')),
    reachable('some RM aborts', (w) => w.any('rm', 'aborted')),
    // A crashed RM is excused (it may never restart); a live one must not wait forever.
    eventually('termination: every live RM decides', (w) => w.all('rm', (s: string, id) => s === 'committed' || s === 'aborted' || w.crashed(id)), { fairDelivery: true }),
  ],
  variants: {
    'commit-early': {
      doc: 'The TM commits without waiting for every RM to prepare.',
      roles: { tm: { actions: { commit: { when: (s) => s.phase === 'init' } } } },
    },
    'rm-ignores-abort': {
      doc: 'An RM that has prepared commits on its own when it sees an abort, assuming a retry.',
      roles: {
        rm: {
          onMessage: (s, _from, m) =>
            m.kind === 'commit' ? 'committed' : m.kind === 'abort' ? (s === 'prepared' ? 'committed' : 'aborted') : s,
        },
      },
    },
    'volatile-rm': {
      doc: 'RMs keep their state in memory only: after a crash (--crashes 1) a committed RM restarts working and may abort.',
      expose: { options: { crashes: 1 } },
      roles: { rm: { durable: undefined } },
    },
    blocking: {
      doc: 'The TM may crash (--crashes 1) and never recover: RMs that prepared wait forever, holding their locks. 2PC is blocking (Skeen 1981; Gray & Lamport, Consensus on Transaction Commit, 2006): caught by the termination property as a lasso.',
      expose: { options: { crashes: 1 } },
    },
    'abort-after-commit': {
      doc: 'The TM may still abort after it has committed (a missing phase check).',
      roles: {
        tm: {
          actions: {
            abort: { when: () => true },
          },
        },
      },
    },
  },
});
