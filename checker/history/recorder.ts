/**
 * Records a history as it happens: the model checker's world and the executor's clients call
 * `invoke` when a client starts an operation and `complete` or `crash` when it ends.
 */
import { HistoryCheckerError } from './errors.ts';
import type { History, Operation, ProcessId } from './history.ts';

const PENDING = 0;
const COMPLETED = 1;
const CRASHED = 2;

/**
 * A growing history. A process has at most one pending operation (a client is sequential);
 * an operation still pending when {@link HistoryRecorder.history} is taken is reported as
 * indeterminate, like a crashed one.
 */
export class HistoryRecorder<I = unknown, O = unknown> {
  private readonly processes: ProcessId[] = [];
  private readonly inputs: I[] = [];
  private readonly outputs: (O | undefined)[] = [];
  private readonly calls: number[] = [];
  private readonly returns: number[] = [];
  private readonly states: number[] = [];
  /** process → id of its pending operation */
  private readonly pendingByProcess = new Map<ProcessId, number>();

  /** Number of operations recorded so far (pending ones included). */
  get size(): number {
    return this.inputs.length;
  }

  /** Number of operations invoked but neither completed nor crashed. */
  get pendingCount(): number {
    return this.pendingByProcess.size;
  }

  /** Starts an operation; returns its id. The process must not have one pending. */
  invoke(process: ProcessId, input: I, time: number): number {
    if (!Number.isFinite(time)) {
      throw new HistoryCheckerError('HistoryRecorder.invoke/bad-time', `time must be finite, got ${time}`);
    }
    const busy = this.pendingByProcess.get(process);
    if (busy !== undefined) {
      throw new HistoryCheckerError(
        'HistoryRecorder.invoke/process-busy',
        `process ${String(process)} still has operation ${busy} pending; complete or crash it first`,
      );
    }
    const id = this.inputs.length;
    this.processes.push(process);
    this.inputs.push(input);
    this.outputs.push(undefined);
    this.calls.push(time);
    this.returns.push(Number.POSITIVE_INFINITY);
    this.states.push(PENDING);
    this.pendingByProcess.set(process, id);
    return id;
  }

  /** Ends operation `id` with a known output at `time` (>= its call time). */
  complete(id: number, output: O, time: number): void {
    this.pendingOperation('HistoryRecorder.complete', id);
    if (output === undefined) {
      throw new HistoryCheckerError(
        'HistoryRecorder.complete/undefined-output',
        `operation ${id}: undefined means "unknown outcome"; use crash(id) for that, or null for no value`,
      );
    }
    if (!(time >= this.calls[id]!) || !Number.isFinite(time)) {
      throw new HistoryCheckerError(
        'HistoryRecorder.complete/bad-time',
        `operation ${id} was invoked at ${this.calls[id]}; cannot complete at ${time}`,
      );
    }
    this.outputs[id] = output;
    this.returns[id] = time;
    this.states[id] = COMPLETED;
    this.pendingByProcess.delete(this.processes[id]!);
  }

  /**
   * Ends operation `id` with an unknown outcome: its effect may or may not have happened, at
   * any time after its call. The process may invoke again afterwards.
   */
  crash(id: number): void {
    this.pendingOperation('HistoryRecorder.crash', id);
    this.states[id] = CRASHED;
    this.pendingByProcess.delete(this.processes[id]!);
  }

  /** The id of the process's pending operation, if any. */
  pendingOf(process: ProcessId): number | undefined {
    return this.pendingByProcess.get(process);
  }

  /** An independent copy (for explorers that branch). */
  clone(): HistoryRecorder<I, O> {
    const copy = new HistoryRecorder<I, O>();
    copy.processes.push(...this.processes);
    copy.inputs.push(...this.inputs);
    copy.outputs.push(...this.outputs);
    copy.calls.push(...this.calls);
    copy.returns.push(...this.returns);
    copy.states.push(...this.states);
    for (const [p, id] of this.pendingByProcess) copy.pendingByProcess.set(p, id);
    return copy;
  }

  /** A snapshot of the history so far; pending operations appear as indeterminate. */
  history(): History<I, O> {
    const operations: Operation<I, O>[] = [];
    for (let id = 0; id < this.inputs.length; id++) {
      operations.push({
        id,
        process: this.processes[id]!,
        input: this.inputs[id]!,
        output: this.states[id] === COMPLETED ? this.outputs[id] : undefined,
        call: this.calls[id]!,
        return: this.returns[id]!,
      });
    }
    return { operations };
  }

  private pendingOperation(fn: string, id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.inputs.length) {
      throw new HistoryCheckerError(`${fn}/unknown-operation`, `no operation with id ${id}`);
    }
    if (this.states[id] !== PENDING) {
      throw new HistoryCheckerError(
        `${fn}/not-pending`,
        `operation ${id} already ${this.states[id] === COMPLETED ? 'completed' : 'crashed'}`,
      );
    }
  }
}
