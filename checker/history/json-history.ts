/**
 * pacta's own JSON history format (documented in docs/history-checkers.md):
 *
 * ```json
 * { "format": "pacta-history", "version": 1,
 *   "operations": [
 *     { "process": 0, "call": 0, "return": 3, "input": { "f": "write", "value": 1 }, "output": null },
 *     { "process": 1, "call": 1, "input": { "f": "read" } } ] }
 * ```
 * `return` absent or null: the operation never returned. `output` absent: its outcome is
 * unknown. Inputs and outputs are the model's vocabulary (see operations.ts).
 */
import { HistoryFormatError } from './errors.ts';
import type { History, Operation, ProcessId } from './history.ts';
import type { OperationDecoder } from './operations.ts';
import { parseLocatedJson } from './json-lines.ts';

/** The `format` tag of pacta's JSON history files. */
export const JSON_HISTORY_FORMAT = 'pacta-history';

/** Parses a JSON history, decoding inputs and outputs with `decoder`; errors name the line. */
export function parseJsonHistory<I, O>(text: string, decoder: OperationDecoder<I, O>, file = '<json>'): History<I, O> {
  const doc = parseLocatedJson(text, file);
  const root = doc.value as Record<string, unknown>;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new HistoryFormatError(file, 1, `expected an object {"format": "${JSON_HISTORY_FORMAT}", "version": 1, "operations": [...]}`);
  }
  if (root.format !== JSON_HISTORY_FORMAT) {
    throw new HistoryFormatError(file, doc.lineOf('/format'), `"format" must be "${JSON_HISTORY_FORMAT}", got ${JSON.stringify(root.format)}`);
  }
  if (root.version !== 1) {
    throw new HistoryFormatError(file, doc.lineOf('/version'), `unsupported "version" ${JSON.stringify(root.version)} (this reader knows version 1)`);
  }
  if (!Array.isArray(root.operations)) {
    throw new HistoryFormatError(file, doc.lineOf('/operations'), '"operations" must be an array');
  }
  const operations: Operation<I, O>[] = [];
  root.operations.forEach((raw: unknown, id: number) => {
    const at = `/operations/${id}`;
    const line = doc.lineOf(at);
    const bad = (field: string, detail: string): never => {
      throw new HistoryFormatError(file, field ? doc.lineOf(`${at}/${field}`) : line, `operation ${id}: ${detail}`);
    };
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('', 'must be an object');
    const op = raw as Record<string, unknown>;
    if (typeof op.process !== 'number' && typeof op.process !== 'string') bad('process', '"process" must be a number or a string');
    if (typeof op.call !== 'number') bad('call', '"call" must be a number');
    const ret = op.return ?? Number.POSITIVE_INFINITY;
    if (typeof ret !== 'number') bad('return', '"return" must be a number, null or absent');
    if ((ret as number) < (op.call as number)) bad('return', `returns at ${String(ret)}, before its call at ${String(op.call)}`);
    const input = decoder.input(op.input);
    if (!input.ok) bad('input', input.error);
    let output: O | undefined;
    if ('output' in op) {
      const decoded = decoder.output((input as { value: I }).value, op.output);
      if (!decoded.ok) bad('output', decoded.error);
      output = (decoded as { value: O }).value;
    }
    operations.push({
      id,
      process: op.process as ProcessId,
      input: (input as { value: I }).value,
      output,
      call: op.call as number,
      return: ret as number,
      source: { callLine: line },
    });
  });
  return { operations, file };
}

/** Writes a history in the JSON format read by {@link parseJsonHistory} (one operation per line). */
export function formatJsonHistory(history: History): string {
  const ops = history.operations.map((op) => {
    const o: Record<string, unknown> = { process: op.process, call: op.call };
    if (Number.isFinite(op.return)) o.return = op.return;
    o.input = op.input;
    if (op.output !== undefined) o.output = op.output;
    return `    ${JSON.stringify(o)}`;
  });
  return `{\n  "format": "${JSON_HISTORY_FORMAT}",\n  "version": 1,\n  "operations": [\n${ops.join(',\n')}\n  ]\n}\n`;
}
