/**
 * One Paxos instance per resource manager, as Paxos Commit uses it (Gray & Lamport, "Consensus on
 * Transaction Commit", ACM TODS 31(1), 2006, §4): the value is the RM's vote, `prepared` or
 * `aborted`. Ballot 0 belongs to the RM itself (its phase 2a message is its vote, so the fast
 * path costs no phase 1); a leader that takes over starts a higher ballot with phase 1 and must
 * propose the value of the highest ballot any acceptor of a majority reported, or `aborted` when
 * none reported one (the RM may never have voted, and aborting is always safe).
 *
 * Pure functions over an acceptor's per-instance state, shared by `paxos-commit` (the actor
 * protocol) and `paxos-commit-tla` (the TLC-shaped model), so both run the same acceptor rules.
 */
import { t } from '../core/index.ts';

/** A vote, as a Paxos value; `none` only in an acceptor that has accepted nothing. */
export const Value = t.enum('none', 'prepared', 'aborted');
export type Value = typeof Value.__type;

/**
 * An acceptor's state for one instance: the highest ballot it has promised (`mbal`), and the
 * ballot and value it last accepted (`bal` -1 and `val` none: nothing accepted yet).
 */
export const AcceptorInstance = t.struct({ mbal: t.u32, bal: t.int, val: Value });
export type AcceptorInstance = typeof AcceptorInstance.__type;

export const initialInstance: AcceptorInstance = { mbal: 0, bal: -1, val: 'none' };

/** The acceptor rules; the broken variant `accept-below-promise` changes one. */
export interface AcceptorRules {
  /** Accept a phase 2a message only at or above the promised ballot (Paxos's one rule for acceptors). */
  readonly acceptOnlyAtPromise: boolean;
}

export const correctAcceptor: AcceptorRules = { acceptOnlyAtPromise: true };

/** Phase 1b: the instance after promising ballot `bal`, or null when the acceptor refuses (already promised as high). */
export function promise(a: AcceptorInstance, bal: number): AcceptorInstance | null {
  return a.mbal < bal ? { ...a, mbal: bal } : null;
}

/**
 * Phase 2b: the instance after accepting (`bal`, `val`), or null when the acceptor refuses (it
 * promised a higher ballot). Accepting what it already accepted returns `a` itself (no change).
 */
export function accept(a: AcceptorInstance, bal: number, val: Value, rules: AcceptorRules = correctAcceptor): AcceptorInstance | null {
  if (rules.acceptOnlyAtPromise && a.mbal > bal) return null;
  if (a.mbal === bal && a.bal === bal && a.val === val) return a;
  // The broken rule accepts below its promise and keeps the promise: mbal never goes down.
  return { mbal: Math.max(a.mbal, bal), bal, val };
}

/**
 * Phase 2a for a ballot above 0: the value a leader must propose given the phase 1b reports of a
 * majority (each the reporter's last accepted ballot and value): the value of the highest
 * reported ballot, or `aborted` when no acceptor of the majority accepted anything.
 */
export function valueToPropose(reports: readonly { readonly bal: number; readonly val: Value }[]): 'prepared' | 'aborted' {
  let best = -1;
  let val: Value = 'aborted';
  for (const r of reports) {
    if (r.bal > best) {
      best = r.bal;
      val = r.val;
    }
  }
  return best < 0 || val === 'none' ? 'aborted' : val;
}

/** The number of acceptors that make a majority of `acceptors`. */
export const majority = (acceptors: number): number => Math.floor(acceptors / 2) + 1;

/** Every minimal majority (each of size `majority(n)`) of acceptors 0..n-1, as sorted index lists. */
export function minimalMajorities(n: number): number[][] {
  const k = majority(n);
  const out: number[][] = [];
  const pick = (from: number, chosen: number[]): void => {
    if (chosen.length === k) {
      out.push(chosen);
      return;
    }
    for (let i = from; i < n; i++) pick(i + 1, [...chosen, i]);
  };
  pick(0, []);
  return out;
}
