/**
 * Reader for the Jepsen etcd logs of Porcupine's test data (`INFO  jepsen.util - 3 :ok :read 1`),
 * with Porcupine's exact reading of them:
 * - a `:fail :cas` is a completed cas that returned false (the compare did not match);
 * - a `:fail :read :timed-out` completes the read there, with an unknown result;
 * - an `:info` line leaves the operation open: it never returns (return time +Infinity,
 *   unknown result), as do operations still pending at the end of the log;
 * - the register starts at nil (see the register model).
 * Times are event positions: the log's order is the real-time order.
 */
import { HistoryFormatError } from './errors.ts';
import type { History, Operation, ProcessId } from './history.ts';
import type { RegisterInput, RegisterOutput } from './operations.ts';

const LINE = /^INFO\s+jepsen\.util\s+-\s+(\d+)\s+(:invoke|:ok|:fail|:info)\s+(:read|:write|:cas)\s+(\S.*?)\s*$/;
const INT = /^-?\d+$/;
const PAIR = /^\[\s*(-?\d+)\s+(-?\d+)\s*\]$/;

/**
 * An integer's digits as a number when a double holds it exactly, else as a bigint: values are
 * compared exactly, so 9007199254740993 and 9007199254740992 stay two values.
 */
export function exactInteger(digits: string): number | bigint {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : BigInt(digits);
}

interface Pending {
  readonly id: number;
  readonly f: 'read' | 'write' | 'cas';
  /** set once an `:info` line said the outcome is unknown: the operation stays open */
  open: boolean;
}

/**
 * Parses a Jepsen etcd log into a register history. Throws {@link HistoryFormatError} with the
 * line number on any line that is not a recognised event, or on events that do not pair up.
 */
export function parseEtcdLog(text: string, file = '<etcd log>'): History<RegisterInput, RegisterOutput> {
  type Mutable = { -readonly [K in keyof Operation<RegisterInput, RegisterOutput>]: Operation<RegisterInput, RegisterOutput>[K] };
  const ops: Mutable[] = [];
  const pending = new Map<ProcessId, Pending>();
  const lines = text.split('\n');
  let time = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const lineNo = i + 1;
    const bad = (detail: string): never => {
      throw new HistoryFormatError(file, lineNo, detail);
    };
    const m = LINE.exec(raw);
    if (!m) {
      bad(`not a Jepsen etcd log line (expected "INFO jepsen.util - <process> :invoke|:ok|:fail|:info :read|:write|:cas <value>"): ${JSON.stringify(raw.slice(0, 120))}`);
    }
    const process = Number(m![1]);
    const type = m![2]!.slice(1);
    const f = m![3]!.slice(1) as Pending['f'];
    const value = m![4]!;
    const now = time++;

    if (type === 'invoke') {
      const busy = pending.get(process);
      if (busy && !busy.open) bad(`process ${process} invokes ${f} while its ${busy.f} (line ${ops[busy.id]!.source!.callLine}) is still pending`);
      let input: RegisterInput;
      if (f === 'read') {
        if (value !== 'nil') bad(`a read is invoked with nil, got ${value}`);
        input = { f: 'read' };
      } else if (f === 'write') {
        if (!INT.test(value)) bad(`a write is invoked with an integer, got ${value}`);
        input = { f: 'write', value: exactInteger(value) };
      } else {
        const pair = PAIR.exec(value);
        if (!pair) bad(`a cas is invoked with [from to], got ${value}`);
        input = { f: 'cas', from: exactInteger(pair![1]!), to: exactInteger(pair![2]!) };
      }
      const id = ops.length;
      ops.push({ id, process, input, output: undefined, call: now, return: Number.POSITIVE_INFINITY, source: { callLine: lineNo } });
      pending.set(process, { id, f, open: false });
      continue;
    }

    const p = pending.get(process);
    if (!p || p.open) bad(`process ${process} completes a ${f} it has not invoked (or that already ended)`);
    if (p!.f !== f) bad(`process ${process} completes ${f} but its pending operation is ${p!.f} (line ${ops[p!.id]!.source!.callLine})`);
    const op = ops[p!.id]!;
    if (type === 'info') {
      // Porcupine ignores :info lines: the operation stays open and gets an unknown return at
      // the end of the history, which is the same as never returning.
      p!.open = true;
      op.source = { callLine: op.source!.callLine!, returnLine: lineNo };
      continue;
    }
    let output: RegisterOutput | undefined;
    if (type === 'ok') {
      if (f === 'read') {
        if (value !== 'nil' && !INT.test(value)) bad(`a read returns nil or an integer, got ${value}`);
        output = value === 'nil' ? null : exactInteger(value);
      } else if (f === 'write') {
        if (!INT.test(value)) bad(`a write completes with its integer, got ${value}`);
        output = null;
      } else {
        if (!PAIR.test(value)) bad(`a cas completes with [from to], got ${value}`);
        output = true;
      }
    } else if (f === 'cas') {
      if (!PAIR.test(value)) bad(`a cas fails with [from to], got ${value}`);
      output = false;
    } else if (f === 'read' && value === ':timed-out') {
      output = undefined;
    } else {
      bad(`unsupported completion ":fail :${f} ${value}" (Porcupine's reading knows :fail only for cas and timed-out reads)`);
    }
    op.output = output;
    op.return = now;
    op.source = { callLine: op.source!.callLine!, returnLine: lineNo };
    pending.delete(process);
  }
  return { operations: ops, file };
}
