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
 * Two sound reductions on top (not in Porcupine). First, an operation the model declares read-only
 * (a read, a failed cas) that is legal in the current configuration is placed at once, with no
 * alternative explored: if a linearization exists from here, one exists that places it now,
 * because it is already called, changes no state, and moving it earlier breaks no real-time
 * order. When such a forced step fails, its configuration fails. Second, identical operations
 * are linearized in a fixed order when their intervals allow it (see twinOrder).
 *
 * Everything is in typed arrays indexed by entry number (0 is the list head), so a step
 * allocates nothing but what the model's step function does.
 */
import type { Operation } from '../history/history.ts';
import { LinearizedSet } from './linearized-set.ts';
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
  /** Int32 words the memo and the linearized set's interned parts hold at the end (about 4 bytes each, states aside). */
  readonly memoWords?: number;
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
  reductions = true,
): SearchOutcome<S> {
  return startSearch(ops, model, reductions).run(Number.POSITIVE_INFINITY, shouldStop)!;
}

/**
 * Prepares a search for a linearization of `ops` under `model`; nothing runs until `run`.
 * `reductions: false` turns off the read-only and twin reductions (the plain search).
 */
export function startSearch<S, I, O>(ops: readonly Operation<I, O>[], model: ResolvedModel<S, I, O>, reductions = true): LinearizabilitySearch<S> {
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

  const zob = zobristWords(n);
  const memo = new MemoTable<S>(model.equal, Math.min(1 << 14, 16 * n));
  const readOnly = new Uint8Array(n);
  if (reductions) for (let k = 0; k < n; k++) readOnly[k] = model.readOnly(inputs[k]!, outputs[k]) ? 1 : 0;
  const mustFollow = reductions ? twinOrder(ops, readOnly) : new Int32Array(n).fill(-1);

  // Search state, kept between slices.
  const linearized = new LinearizedSet(ops);
  const stackEntry = new Int32Array(n);
  const stackForced = new Uint8Array(n);
  const stackState: S[] = new Array<S>(n);
  let depth = 0;
  let state = model.init();
  let bitsHash = 0;
  let steps = 0;
  let entry = 0;
  let fresh = true; // entering a configuration for the first time
  // After a forced (state-preserving) placement, the read-only calls before it in the window
  // were already found illegal in this same state: the next scan resumes after it.
  let resume = 0;
  let done: SearchOutcome<S> | undefined;

  // The longest linearized sequence reached, for the explanation.
  let bestDepth = -1;
  let bestPrefix: number[] = [];
  let bestState = state;
  let bestBlocked = -1;
  let bestPending: number[] = [];

  const run = (stepBudget: number, shouldStop: ShouldStop): SearchOutcome<S> | undefined => {
    if (done) return done;
    // Locals for the hot loop (closure variables are slower); written back when pausing.
    const step = model.step;
    const hashState = model.hash;
    const pauseAt = steps + stepBudget;
    let d = depth;
    let st = state;
    let bh = bitsHash;
    let count = steps;
    let e = entry;
    let isFresh = fresh;
    let scanFrom = resume;
    const finish = (outcome: SearchOutcome<S> | undefined): SearchOutcome<S> | undefined => {
      depth = d;
      state = st;
      bitsHash = bh;
      steps = count;
      entry = e;
      fresh = isFresh;
      resume = scanFrom;
      if (outcome) done = outcome;
      return outcome;
    };
    const unknown = (): SearchOutcome<S> => ({ result: 'unknown', steps: count, memoized: memo.size });

    while (next[0] !== -1) {
      if (count >= pauseAt) return finish(undefined);
      // Pick a candidate: first any legal read-only operation of a fresh configuration's window
      // (calls before the first return), placed without alternatives; else the call at `e`.
      let cand = -1;
      let candOp = 0;
      let candNext = st;
      let forced = 0;
      if (isFresh) {
        isFresh = false;
        for (let c = next[scanFrom]!; c !== -1 && matchOf[c]! >= 0; c = next[c]!) {
          const op = opOf[c]!;
          if (readOnly[op] === 0) continue;
          if ((++count & 0xfff) === 0 && shouldStop()) return finish(unknown());
          const r = step(st, inputs[op]!, outputs[op]);
          if (!r.ok) continue;
          cand = c;
          candOp = op;
          candNext = r.next;
          forced = 1;
          break;
        }
        if (cand === -1) e = next[0]!;
      }
      let stuck = false;
      if (cand === -1) {
        if (matchOf[e]! < 0) {
          // A return: its operation was not linearized in time.
          stuck = true;
          if (d > bestDepth) {
            bestDepth = d;
            bestPrefix = Array.from(stackEntry.subarray(0, d), (x) => opOf[x]!);
            bestState = st;
            bestBlocked = opOf[e]!;
            bestPending = [];
            for (let c = next[0]!; c !== e; c = next[c]!) if (matchOf[c]! >= 0) bestPending.push(opOf[c]!);
          }
        } else {
          // A call: try to linearize its operation now (read-only ones were tried above; an
          // operation waits for its twin, see twinOrder).
          const op = opOf[e]!;
          const twin = mustFollow[op]!;
          if (readOnly[op] === 0 && (twin < 0 || linearized.has(twin))) {
            if ((++count & 0xfff) === 0 && shouldStop()) return finish(unknown());
            const r = step(st, inputs[op]!, outputs[op]);
            if (r.ok) {
              cand = e;
              candOp = op;
              candNext = r.next;
            }
          }
          if (cand === -1) {
            e = next[e]!;
            continue;
          }
        }
      }
      if (!stuck) {
        // Linearize the candidate unless (linearized set, state) was explored before.
        linearized.add(candOp);
        const h = bh ^ zob[candOp]!;
        if (memo.add(linearized, h ^ Math.imul(hashState(candNext), 0x85ebca6b), candNext)) {
          stackEntry[d] = cand;
          stackForced[d] = forced;
          stackState[d] = st;
          d++;
          st = candNext;
          bh = h;
          const ret = matchOf[cand]!;
          next[prev[cand]!] = next[cand]!;
          prev[next[cand]!] = prev[cand]!;
          next[prev[ret]!] = next[ret]!;
          if (next[ret] !== -1) prev[next[ret]!] = prev[ret]!;
          isFresh = true;
          scanFrom = forced === 1 ? prev[cand]! : 0;
          continue;
        }
        linearized.remove(candOp);
        if (forced === 0) {
          e = next[e]!;
          continue;
        }
        // a forced placement explored before failed, so this configuration fails
      }
      // Backtrack: undo linearizations until a configuration with an untried alternative.
      for (;;) {
        if (d === 0) {
          return finish({
            result: 'not-linearizable',
            longestPrefix: bestPrefix,
            stateAfterPrefix: bestState,
            blocked: bestBlocked,
            pending: bestPending,
            steps: count,
            memoized: memo.size,
          });
        }
        d--;
        const c = stackEntry[d]!;
        st = stackState[d]!;
        stackState[d] = undefined as S; // let the state be collected
        const op = opOf[c]!;
        linearized.remove(op);
        bh ^= zob[op]!;
        const ret = matchOf[c]!;
        next[prev[ret]!] = ret;
        if (next[ret] !== -1) prev[next[ret]!] = ret;
        next[prev[c]!] = c;
        prev[next[c]!] = c;
        // A forced placement failing means its configuration fails too: keep undoing.
        if (stackForced[d] === 0) {
          e = next[c]!;
          scanFrom = 0;
          break;
        }
      }
    }
    return finish({
      result: 'linearizable',
      linearization: Array.from(stackEntry.subarray(0, d), (x) => opOf[x]!),
      steps: count,
      memoized: memo.size,
      memoWords: memo.words + linearized.internedWords,
    });
  };
  return { run };
}

/**
 * A second sound reduction: identical operations (same input, same output) whose intervals
 * are nested-ordered (one called no later and returned no later than the other) can be
 * linearized in that order without loss: swapping two identical operations in a linearization
 * keeps it legal (same effects) and keeps real time (the earlier interval fits the earlier
 * place, the later one the later place). So each operation waits for its closest such twin.
 * Read-only operations are left out (they are placed greedily instead). Returns, per operation,
 * the twin it must follow, or -1.
 */
function twinOrder(ops: readonly Operation[], readOnly: Uint8Array): Int32Array {
  const mustFollow = new Int32Array(ops.length).fill(-1);
  const groups = new Map<string, number[]>();
  ops.forEach((op, k) => {
    if (readOnly[k]) return;
    const input = plainKey(op.input);
    const output = op.output === undefined ? '?' : plainKey(op.output);
    if (input === undefined || output === undefined) return;
    const key = `${input}\u0000${output}`;
    const group = groups.get(key);
    if (group) group.push(k);
    else groups.set(key, [k]);
  });
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    group.sort((a, b) => ops[a]!.call - ops[b]!.call || ops[a]!.return - ops[b]!.return || a - b);
    for (let i = 1; i < group.length; i++) {
      const o = group[i]!;
      for (let j = i - 1; j >= 0; j--) {
        if (ops[group[j]!]!.return <= ops[o]!.return) {
          mustFollow[o] = group[j]!;
          break;
        }
      }
    }
  }
  return mustFollow;
}

/**
 * A canonical string for plain data (null, booleans, numbers, strings, arrays, plain objects
 * with sorted keys); undefined for anything else (Maps, class instances...), whose identity
 * cannot be told from a serialization.
 */
function plainKey(value: unknown): string | undefined {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const v of value) {
      const k = plainKey(v);
      if (k === undefined) return undefined;
      parts.push(k);
    }
    return `[${parts.join(',')}]`;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return undefined;
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const k = plainKey((value as Record<string, unknown>)[key]);
      if (k === undefined) return undefined;
      parts.push(`${JSON.stringify(key)}:${k}`);
    }
    return `{${parts.join(',')}}`;
  }
  return undefined;
}
