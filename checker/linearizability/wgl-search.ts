/**
 * The Wing–Gong–Lowe linearizability search over one (partition of a) history, as in Lowe's
 * "Testing for linearizability" and Porcupine.
 *
 * The history is a doubly linked list of call and return entries in time order. The search
 * walks it from the front: at a call entry it tries to linearize that operation now (the model
 * must accept it, and the (linearized set, state) pair must be new); if so the operation's two
 * entries are lifted out of the list and the walk restarts from the front. Reaching a return
 * entry means the operation that returns there was not linearized in time: backtrack (undo the
 * last linearization, put its entries back, try the next call). The history is linearizable
 * when the list empties; not when backtracking finds nothing to undo.
 *
 * Everything is in typed arrays indexed by entry number (0 is the list head), so a step
 * allocates nothing but what the model's step function does.
 */
import type { Operation } from '../history/history.ts';
import { MemoTable } from './memo-table.ts';
import type { ResolvedModel } from './model.ts';

/** Why a search stopped without a verdict. */
export type SearchAbort = 'time-limit';

/** What one search found. Operation numbers index the `ops` array given to the search. */
export interface SearchOutcome<S> {
  readonly result: 'linearizable' | 'not-linearizable' | 'unknown';
  /** When linearizable: a linearization (operation numbers in order). */
  readonly linearization?: readonly number[];
  /** When not linearizable: the longest linearized sequence the search reached. */
  readonly longestPrefix?: readonly number[];
  /** ...the model state after it... */
  readonly stateAfterPrefix?: S;
  /** ...the operation whose return was reached before it could be linearized... */
  readonly blocked?: number;
  /** ...and the operations pending at that point (called, not linearized; `blocked` included). */
  readonly pending?: readonly number[];
  /** Model steps taken. */
  readonly steps: number;
  /** (linearized set, state) pairs memoized. */
  readonly memoized: number;
}

/** A per-call deadline check: returns true when the search must stop. */
export type ShouldStop = () => boolean;

// Zobrist words: one fixed pseudo-random 32-bit word per operation (xorshift32, fixed seed).
let zobrist = new Int32Array(0);
function zobristWords(n: number): Int32Array {
  if (zobrist.length >= n) return zobrist;
  const words = new Int32Array(Math.max(n, zobrist.length * 2, 256));
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  zobrist = words;
  return words;
}

/** Entries sorted by time, calls before returns at equal times (ties count as concurrent). */
function sortedEntries(ops: readonly Operation[]): Int32Array {
  const n = ops.length;
  // entry code: 2*op for the call, 2*op+1 for the return
  const codes = new Int32Array(2 * n);
  const times = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    codes[2 * i] = 2 * i;
    codes[2 * i + 1] = 2 * i + 1;
    times[2 * i] = ops[i]!.call;
    times[2 * i + 1] = ops[i]!.return;
  }
  codes.sort((a, b) => times[a]! - times[b]! || (a & 1) - (b & 1) || a - b);
  return codes;
}

/**
 * Searches for a linearization of `ops` under `model`. `shouldStop` is polled every few
 * thousand steps; when it returns true the outcome is `unknown`.
 */
export function searchLinearization<S, I, O>(
  ops: readonly Operation<I, O>[],
  model: ResolvedModel<S, I, O>,
  shouldStop: ShouldStop,
): SearchOutcome<S> {
  const n = ops.length;
  if (n === 0) return { result: 'linearizable', linearization: [], steps: 0, memoized: 0 };
  const inputs = ops.map((op) => op.input);
  const outputs = ops.map((op) => op.output);

  // The intrusive list: entry 0 is the head; entries 1..2n are calls and returns in time order.
  const size = 2 * n + 1;
  const next = new Int32Array(size);
  const prev = new Int32Array(size);
  const opOf = new Int32Array(size);
  const matchOf = new Int32Array(size); // call entry → its return entry; return entry → -1
  const order = sortedEntries(ops);
  const returnEntry = new Int32Array(n);
  for (let k = 0; k < 2 * n; k++) {
    const code = order[k]!;
    const entry = k + 1;
    opOf[entry] = code >> 1;
    if (code & 1) returnEntry[code >> 1] = entry;
  }
  for (let entry = 1; entry < size; entry++) {
    matchOf[entry] = order[entry - 1]! & 1 ? -1 : returnEntry[opOf[entry]!]!;
  }
  for (let entry = 0; entry < size; entry++) {
    next[entry] = entry + 1 < size ? entry + 1 : -1;
    prev[entry] = entry - 1;
  }

  const words = (n + 31) >>> 5;
  const bits = new Int32Array(words);
  const zob = zobristWords(n);
  const memo = new MemoTable<S>(words, model.equal, Math.min(1 << 16, 64 * n));
  const step = model.step;
  const hashState = model.hash;

  // The stack of linearized calls, and the state before each.
  const stackEntry = new Int32Array(n);
  const stackState: S[] = new Array<S>(n);
  let depth = 0;
  let state = model.init();
  let bitsHash = 0;
  let steps = 0;

  // The longest linearized sequence reached, for the explanation.
  let bestDepth = -1;
  let bestPrefix: number[] = [];
  let bestState = state;
  let bestBlocked = -1;
  let bestPending: number[] = [];

  let entry = next[0]!;
  while (next[0] !== -1) {
    const ret = matchOf[entry]!;
    if (ret >= 0) {
      // A call: try to linearize its operation now.
      const op = opOf[entry]!;
      if ((++steps & 0xfff) === 0 && shouldStop()) {
        return { result: 'unknown', steps, memoized: memo.size };
      }
      const r = step(state, inputs[op]!, outputs[op]);
      if (r.ok) {
        const w = op >>> 5;
        const bit = 1 << (op & 31);
        bits[w]! |= bit;
        const h = bitsHash ^ zob[op]!;
        if (memo.add(bits, h ^ Math.imul(hashState(r.next), 0x85ebca6b), r.next)) {
          stackEntry[depth] = entry;
          stackState[depth] = state;
          depth++;
          state = r.next;
          bitsHash = h;
          // lift the call and its return out of the list
          next[prev[entry]!] = next[entry]!;
          prev[next[entry]!] = prev[entry]!;
          next[prev[ret]!] = next[ret]!;
          if (next[ret] !== -1) prev[next[ret]!] = prev[ret]!;
          entry = next[0]!;
          continue;
        }
        bits[w]! &= ~bit;
      }
      entry = next[entry]!;
      continue;
    }
    // A return: its operation was not linearized in time.
    if (depth > bestDepth) {
      bestDepth = depth;
      bestPrefix = Array.from(stackEntry.subarray(0, depth), (e) => opOf[e]!);
      bestState = state;
      bestBlocked = opOf[entry]!;
      bestPending = [];
      for (let e = next[0]!; e !== entry; e = next[e]!) if (matchOf[e]! >= 0) bestPending.push(opOf[e]!);
    }
    if (depth === 0) {
      return {
        result: 'not-linearizable',
        longestPrefix: bestPrefix,
        stateAfterPrefix: bestState,
        blocked: bestBlocked,
        pending: bestPending,
        steps,
        memoized: memo.size,
      };
    }
    depth--;
    entry = stackEntry[depth]!;
    state = stackState[depth]!;
    stackState[depth] = undefined as S; // let the state be collected
    const op = opOf[entry]!;
    bits[op >>> 5]! &= ~(1 << (op & 31));
    bitsHash ^= zob[op]!;
    // put the call and its return back
    const r = matchOf[entry]!;
    next[prev[r]!] = r;
    if (next[r] !== -1) prev[next[r]!] = r;
    next[prev[entry]!] = entry;
    prev[next[entry]!] = entry;
    entry = next[entry]!;
  }
  return {
    result: 'linearizable',
    linearization: Array.from(stackEntry.subarray(0, depth), (e) => opOf[e]!),
    steps,
    memoized: memo.size,
  };
}
