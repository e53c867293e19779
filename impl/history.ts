/**
 * Client histories recorded from a running cluster, in the shape the history checkers consume
 * (checker/history's `History`: operations with process, input, output, call and return times;
 * an unknown outcome is `output: undefined` with `return: Infinity`). The types are restated
 * here because impl/ may not import checker/; they are structurally the same, so a
 * `ClientHistory` passes as is to `checkLinearizability` (tested).
 */
import type { NodeId } from '../specs/core/index.ts';

/** One operation of a client: a known result, or an unknown outcome (timed out, client closed). */
export interface HistoryOperation<I = unknown, O = unknown> {
  /** Index in the history's `operations`. */
  readonly id: number;
  /** The client that invoked it: its index among the cluster's clients (0, 1, ...). */
  readonly process: number;
  readonly input: I;
  /** The result; `undefined` when the outcome is unknown (the call timed out). */
  readonly output: O | undefined;
  /** When the request was sent, in ms of the cluster clock's monotonic time (made strictly increasing across the history's records). */
  readonly call: number;
  /** When the reply arrived; `Infinity` when none did (the effect may land at any later time). */
  readonly return: number;
}

/** A client history: every operation invoked on the cluster so far. */
export interface ClientHistory<I = unknown, O = unknown> {
  readonly operations: readonly HistoryOperation<I, O>[];
}

/** An invocation or a return, in the order they happened (the model world's history form). */
export type HistoryEvent =
  | { readonly kind: 'invoke'; readonly client: NodeId; readonly id: number; readonly op: unknown }
  | { readonly kind: 'return'; readonly client: NodeId; readonly id: number; readonly result: unknown };

interface Entry {
  process: number;
  input: unknown;
  output: unknown;
  call: number;
  return: number;
}

/**
 * Apart from equal clock readings: what one process records later happened later, so stamps
 * strictly increase in recording order. A return and the next call read at the same millisecond
 * (a simulated clock, a coarse one) would otherwise be concurrent to a checker, and a real-time
 * order the run had (one call awaited after another returned) would be lost from the history.
 */
const STAMP_STEP = 1e-6;

/** Records the operations of all clients of a cluster. */
export class HistoryLog {
  readonly #entries: Entry[] = [];
  readonly #events: HistoryEvent[] = [];
  #last = Number.NEGATIVE_INFINITY;

  #stamp(time: number): number {
    this.#last = Math.max(time, this.#last + STAMP_STEP);
    return this.#last;
  }

  /** Records an invocation; returns the operation's index. */
  invoke(process: number, client: NodeId, requestId: number, input: unknown, time: number): number {
    this.#entries.push({ process, input, output: undefined, call: this.#stamp(time), return: Number.POSITIVE_INFINITY });
    this.#events.push({ kind: 'invoke', client, id: requestId, op: input });
    return this.#entries.length - 1;
  }

  /** Records the result of operation `index`. */
  complete(index: number, client: NodeId, requestId: number, output: unknown, time: number): void {
    const e = this.#entries[index]!;
    e.output = output;
    e.return = this.#stamp(time);
    this.#events.push({ kind: 'return', client, id: requestId, result: output });
  }

  /** The operations so far; pending and timed-out ones have an unknown outcome. */
  history<I = unknown, O = unknown>(): ClientHistory<I, O> {
    return {
      operations: this.#entries.map((e, id) => ({
        id,
        process: e.process,
        input: e.input as I,
        output: e.output as O | undefined,
        call: e.call,
        return: e.return,
      })),
    };
  }

  /** Invocations and returns in order, as the model's world records them. */
  events(): readonly HistoryEvent[] {
    return this.#events.slice();
  }
}
