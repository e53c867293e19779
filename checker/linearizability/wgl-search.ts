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
 * One sound reduction on top (not in Porcupine): an operation the model declares read-only
 * (a read, a failed cas) that is legal in the current configuration is placed at once, with no
 * alternative explored: if a linearization exists from here, one exists that places it now,
 * because it is already called, changes no state, and moving it earlier breaks no real-time
 * order. When such a forced step fails, its configuration fails.
 *
 * Everything is in typed arrays indexed by entry number (0 is the list head), so a step
 * allocates nothing but what the model's step function does.
 */
import type { Operation } from '../history/history.ts';
import { MemoTable } from './memo-table.ts';
import type { ResolvedModel } from './model.ts';

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
 * A search that can run in slices, so that several partitions can share one thread fairly
 * (the first partition found not linearizable settles the verdict, as Porcupine's parallel
 * goroutines do).
 */
export interface LinearizabilitySearch<S> {
  /**
   * Runs about `stepBudget` more model steps. Returns the outcome when the search is over, or
   * `undefined` when the budget ran out first. `shouldStop` is polled every few thousand
   * steps; when it returns true the outcome is `unknown`.
   */
  run(stepBudget: number, shouldStop: ShouldStop): SearchOutcome<S> | undefined;
}

/** Searches for a linearization of `ops` under `model`, to the end (or until `shouldStop`). */
export function searchLinearization<S, I, O>(
  ops: readonly Operation<I, O>[],
  model: ResolvedModel<S, I, O>,
  shouldStop: ShouldStop,
): SearchOutcome<S> {
  return startSearch(ops, model).run(Number.POSITIVE_INFINITY, shouldStop)!;
}

/** Prepares a search for a linearization of `ops` under `model`; nothing runs until `run`. */
export function startSearch<S, I, O>(ops: readonly Operation<I, O>[], model: ResolvedModel<S, I, O>): LinearizabilitySearch<S> {
  const n = ops.length;
  if (n === 0) return { run: () => ({ result: 'linearizable', linearization: [], steps: 0, memoized: 0 }) };
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
  const memo = new MemoTable<S>(words, model.equal, Math.min(1 << 14, 16 * n));
  const step = model.step;
  const hashState = model.hash;
  const readOnly = new Uint8Array(n);
  for (let k = 0; k < n; k++) readOnly[k] = model.readOnly(inputs[k]!, outputs[k]) ? 1 : 0;

  // The stack of linearized calls, the state before each, and whether it was forced (a
  // read-only operation placed as soon as it was legal: its configuration has no alternative).
  const stackEntry = new Int32Array(n);
  const stackForced = new Uint8Array(n);
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

  /** Tries to add op's configuration to the memo; on success pushes the frame and lifts the entries. */
  const linearize = (entry: number, op: number, nextState: S, forced: number): boolean => {
    const w = op >>> 5;
    const bit = 1 << (op & 31);
    bits[w]! |= bit;
    const h = bitsHash ^ zob[op]!;
    if (!memo.add(bits, h ^ Math.imul(hashState(nextState), 0x85ebca6b), nextState)) {
      bits[w]! &= ~bit;
      return false;
    }
    stackEntry[depth] = entry;
    stackForced[depth] = forced;
    stackState[depth] = state;
    depth++;
    state = nextState;
    bitsHash = h;
    const ret = matchOf[entry]!;
    next[prev[entry]!] = next[entry]!;
    prev[next[entry]!] = prev[entry]!;
    next[prev[ret]!] = next[ret]!;
    if (next[ret] !== -1) prev[next[ret]!] = prev[ret]!;
    return true;
  };

  /**
   * Undoes linearizations until a configuration with an untried alternative; returns the entry
   * to try next there, or -1 when the initial configuration has failed.
   */
  const backtrack = (): number => {
    for (;;) {
      if (depth === 0) return -1;
      depth--;
      const entry = stackEntry[depth]!;
      state = stackState[depth]!;
      stackState[depth] = undefined as S; // let the state be collected
      const op = opOf[entry]!;
      bits[op >>> 5]! &= ~(1 << (op & 31));
      bitsHash ^= zob[op]!;
      const ret = matchOf[entry]!;
      next[prev[ret]!] = ret;
      if (next[ret] !== -1) prev[next[ret]!] = ret;
      next[prev[entry]!] = entry;
      prev[next[entry]!] = entry;
      // A forced frame failing means its configuration fails too: keep undoing.
      if (stackForced[depth] === 0) return next[entry]!;
    }
  };

  const notLinearizable = (): SearchOutcome<S> => ({
    result: 'not-linearizable',
    longestPrefix: bestPrefix,
    stateAfterPrefix: bestState,
    blocked: bestBlocked,
    pending: bestPending,
    steps,
    memoized: memo.size,
  });

  let entry = 0;
  let fresh = true; // entering a configuration for the first time
  let done: SearchOutcome<S> | undefined;

  const run = (stepBudget: number, shouldStop: ShouldStop): SearchOutcome<S> | undefined => {
    if (done) return done;
    const pauseAt = steps + stepBudget;
    while (next[0] !== -1) {
      if (steps >= pauseAt) return undefined;
      if (fresh) {
        // First place any legal read-only operation of the window (calls before the first return).
        fresh = false;
        let forced = 0; // 1: placed one; -1: the configuration is known to fail
        for (let e = next[0]!; e !== -1 && matchOf[e]! >= 0; e = next[e]!) {
          const op = opOf[e]!;
          if (readOnly[op] === 0) continue;
          if ((++steps & 0xfff) === 0 && shouldStop()) return (done = { result: 'unknown', steps, memoized: memo.size });
          const r = step(state, inputs[op]!, outputs[op]);
          if (!r.ok) continue;
          forced = linearize(e, op, r.next, 1) ? 1 : -1;
          break;
        }
        if (forced === 1) {
          fresh = true;
          continue;
        }
        if (forced === -1) {
          // placing it was explored before and failed, so this configuration fails
          entry = backtrack();
          if (entry === -1) return (done = notLinearizable());
          continue;
        }
        entry = next[0]!;
      }
      if (matchOf[entry]! >= 0) {
        // A call: try to linearize its operation now (read-only ones were tried above).
        const op = opOf[entry]!;
        if (readOnly[op] === 0) {
          if ((++steps & 0xfff) === 0 && shouldStop()) return (done = { result: 'unknown', steps, memoized: memo.size });
          const r = step(state, inputs[op]!, outputs[op]);
          if (r.ok && linearize(entry, op, r.next, 0)) {
            fresh = true;
            continue;
          }
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
      entry = backtrack();
      if (entry === -1) return (done = notLinearizable());
    }
    return (done = {
      result: 'linearizable',
      linearization: Array.from(stackEntry.subarray(0, depth), (e) => opOf[e]!),
      steps,
      memoized: memo.size,
    });
  };
  return { run };
}
