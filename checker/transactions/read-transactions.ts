/**
 * Readers for transaction histories: pacta's JSON format and Jepsen/Elle EDN histories, in
 * both workloads: rw-register (`{:type :ok, :f :txn, :value [[:r :x 1] [:w :y 2]], :process 0}`)
 * and list-append (`{:type :ok, :f :txn, :value [[:append 5 1] [:r 5 [1]]], :process 0}`).
 * Errors name the line.
 */
import { HistoryFormatError } from '../history/errors.ts';
import type { ProcessId } from '../history/history.ts';
import { EdnFormSplitter, type EdnForm } from '../history/edn-forms.ts';
import { parseJepsenForm, type JepsenEvent } from '../history/jepsen-edn.ts';
import { fastEdnValue } from './fast-edn.ts';
import { parseLocatedJson } from '../history/json-lines.ts';
import { streamJsonObject } from '../history/json-stream.ts';
import { WORKLOADS, type Transaction, type TransactionHistory, type TxnKey, type TxnOp, type TxnStatus, type TxnValue, type Workload } from './transaction.ts';

/** The `format` tag of pacta's JSON transaction files. */
export const JSON_TRANSACTIONS_FORMAT = 'pacta-transactions';

const STATUSES = new Set(['committed', 'aborted', 'unknown']);
const isKey = (k: unknown): k is TxnKey => typeof k === 'string' || (typeof k === 'number' && Number.isFinite(k));
const isValue = isKey as (v: unknown) => v is TxnValue;

/** Most elements a list read may hold (a bound on what one line of input can make the checker allocate). */
const MAX_LIST = 10_000_000;

/** Decodes one micro-operation `[f, key, value]`; returns an error message when invalid. */
function decodeOp(raw: unknown, readsKnown: boolean): TxnOp | string {
  if (!Array.isArray(raw) || raw.length !== 3) return `an operation is [f, key, value], got ${JSON.stringify(raw)}`;
  const [f, key, value] = raw as unknown[];
  if (!isKey(key)) return `a key is a string or number, got ${JSON.stringify(key)}`;
  if (f === 'r') {
    if (Array.isArray(value)) {
      if (value.length > MAX_LIST) return `a read of ${value.length} elements is beyond the limit of ${MAX_LIST}`;
      const bad = value.find((v) => !isValue(v));
      if (bad !== undefined) return `a list read holds strings or numbers, got ${JSON.stringify(bad)}`;
      return { f: 'r', key, value: readsKnown ? (value as TxnValue[]) : null };
    }
    if (value !== null && !isValue(value)) return `a read sees a string, a number, a list of them or null, got ${JSON.stringify(value)}`;
    return { f: 'r', key, value: readsKnown ? (value as TxnValue | null) : null };
  }
  if (f === 'w' || f === 'append') {
    if (!isValue(value)) return `${f === 'w' ? 'a write writes' : 'an append appends'} a string or number, got ${JSON.stringify(value)}`;
    return { f, key, value };
  }
  return `operations are "r" (read), "w" (write, rw-register) and "append" (list-append), got ${JSON.stringify(f)}`;
}

/**
 * Parses pacta's JSON transaction format:
 * `{"format": "pacta-transactions", "version": 1, "workload": "rw-register", "transactions":
 * [{"process": 0, "call": 0, "return": 5, "status": "committed", "commitTs": 3, "ops": [["r",
 * "x", null], ["w", "y", 2]]}]}`; list-append ops are `["append", "x", 3]` and `["r", "x", [1, 2,
 * 3]]`. `workload` is optional (detected from the operations when absent).
 */
export function parseJsonTransactions(text: string, file = '<json>'): TransactionHistory {
  return readJsonTransactions([text], file);
}

/**
 * {@link parseJsonTransactions} over text that arrives in chunks: each transaction is read as
 * soon as it is complete, so memory holds the transactions, not the file's text. The header
 * fields are checked when they are read (pacta writes them before the transactions) or at the
 * end; an error names the first offending line in the file's order.
 */
export function readJsonTransactions(chunks: Iterable<string>, file = '<json>'): TransactionHistory {
  const notAnObject = `expected an object {"format": "${JSON_TRANSACTIONS_FORMAT}", "version": 1, "transactions": [...]}`;
  const header = new Map<string, { value: unknown; line: number }>();
  const checkHeader = (field: 'format' | 'version' | 'workload'): void => {
    const got = header.get(field);
    const value = got?.value;
    const line = got?.line ?? 1;
    if (field === 'format' && value !== JSON_TRANSACTIONS_FORMAT) throw new HistoryFormatError(file, line, `"format" must be "${JSON_TRANSACTIONS_FORMAT}", got ${JSON.stringify(value)}`);
    if (field === 'version' && value !== 1) throw new HistoryFormatError(file, line, `unsupported "version" ${JSON.stringify(value)} (this reader knows version 1)`);
    if (field === 'workload' && value !== undefined && !WORKLOADS.includes(value as Workload)) {
      throw new HistoryFormatError(file, line, `"workload" must be ${WORKLOADS.map((w) => `"${w}"`).join(' or ')}, got ${JSON.stringify(value)}`);
    }
  };
  const transactions: Transaction[] = [];
  let sawArray = false;
  for (const piece of streamJsonObject(chunks, file, 'transactions', notAnObject)) {
    if (piece.kind === 'member') {
      if (header.has(piece.key) && (piece.key === 'transactions' || Object.hasOwn(HEADER_FIELDS, piece.key))) throw new HistoryFormatError(file, piece.line, `"${piece.key}" appears twice`);
      header.set(piece.key, { value: piece.value, line: piece.line });
      if (Object.hasOwn(HEADER_FIELDS, piece.key)) checkHeader(piece.key as 'format' | 'version' | 'workload');
      if (piece.key === 'transactions') {
        if (!Array.isArray(piece.value)) throw new HistoryFormatError(file, piece.line, '"transactions" must be an array');
        sawArray = true;
      }
      continue;
    }
    transactions.push(decodeJsonTransaction(piece.value, piece.index, piece.line, piece.text, file));
  }
  for (const field of Object.keys(HEADER_FIELDS) as ('format' | 'version' | 'workload')[]) checkHeader(field);
  if (!sawArray) throw new HistoryFormatError(file, 1, '"transactions" must be an array');
  const workload = header.get('workload')?.value as Workload | undefined;
  return workload === undefined ? { transactions, file } : { transactions, file, workload };
}

const HEADER_FIELDS = { format: true, version: true, workload: true };

/** One transaction of pacta's JSON format (`raw`, parsed from `text`, starting on `line`). */
function decodeJsonTransaction(raw: unknown, id: number, line: number, text: string, file: string): Transaction {
  const bad = (field: string, detail: string): never => {
    // Lines of the fields are worked out only for an error (the element's own text is at hand).
    const fieldLine = field ? line - 1 + parseLocatedJson(text, file, 3).lineOf(`/${field}`) : line;
    throw new HistoryFormatError(file, fieldLine, `transaction ${id}: ${detail}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('', 'must be an object');
  const t = raw as Record<string, unknown>;
  if (typeof t.process !== 'number' && typeof t.process !== 'string') bad('process', '"process" must be a number or a string');
  if (typeof t.call !== 'number') bad('call', '"call" must be a number');
  const ret = t.return ?? Number.POSITIVE_INFINITY;
  if (typeof ret !== 'number' || ret < (t.call as number)) bad('return', '"return" must be a number >= "call", null or absent');
  if (!STATUSES.has(t.status as string)) bad('status', `"status" must be "committed", "aborted" or "unknown", got ${JSON.stringify(t.status)}`);
  if (t.commitTs !== undefined && (typeof t.commitTs !== 'number' || !Number.isFinite(t.commitTs))) bad('commitTs', '"commitTs" must be a number');
  if (!Array.isArray(t.ops)) bad('ops', '"ops" must be an array of [f, key, value]');
  const ops = (t.ops as unknown[]).map((rawOp, k) => {
    const op = decodeOp(rawOp, true);
    if (typeof op === 'string') bad(`ops/${k}`, `operation ${k}: ${op}`);
    return op as TxnOp;
  });
  return {
    id,
    process: t.process as ProcessId,
    ops,
    status: t.status as TxnStatus,
    call: t.call as number,
    return: ret as number,
    ...(t.commitTs !== undefined ? { commitTs: t.commitTs as number } : {}),
    line,
  };
}

/**
 * Parses a Jepsen/Elle transaction history in EDN: `:invoke`/`:ok`/`:fail`/`:info` events with
 * `:f :txn` and a `:value` of micro-operations `[:r k v]`, `[:w k v]` (rw-register) or
 * `[:append k v]`, `[:r k [v ...]]` (list-append); keys and values are integers, strings or
 * keywords. `:ok` commits, `:fail` aborts, `:info` or no completion is unknown (its writes or
 * appends may have happened; its reads are unknown). An optional `:commit-ts` on the
 * completion gives the commit timestamp. Times are positions in the file.
 */
export function parseEdnTransactions(text: string, file = '<edn>'): TransactionHistory {
  return readEdnTransactions([text], file);
}

/**
 * {@link parseEdnTransactions} over text that arrives in chunks (cut anywhere, e.g. a file read
 * piece by piece): each form is read and turned into a transaction as soon as it is complete,
 * so memory holds the transactions and one chunk, not the file's text. An error names the
 * first offending line in the file's order (a later structural error is not looked for first).
 */
export function readEdnTransactions(chunks: Iterable<string>, file = '<edn>'): TransactionHistory {
  const splitter = new EdnFormSplitter(file);
  function* events(): Generator<JepsenEvent> {
    const read = function* (forms: EdnForm[]): Generator<JepsenEvent> {
      for (const form of forms) {
        const event = parseJepsenForm(form, file, fastEdnValue);
        if (event) yield event;
      }
    };
    for (const chunk of chunks) yield* read(splitter.push(chunk));
    yield* read(splitter.end());
  }
  // Each transaction takes its place (its id) when invoked, as "unknown"; its completion
  // replaces it there. No second copy of the history is made at the end.
  const transactions: Transaction[] = [];
  const pending = new Map<ProcessId, number>();
  let time = 0;
  for (const ev of events()) {
    const now = time++;
    const bad = (detail: string): never => {
      throw new HistoryFormatError(file, ev.line, detail);
    };
    if (ev.f !== 'txn') bad(`expected :f :txn, got :${ev.f}`);
    if (!Array.isArray(ev.value)) bad(`:value must be a vector of micro-operations ([:r k v], [:w k v], [:append k v]), got ${JSON.stringify(ev.value)}`);
    const ops = (ev.value as unknown[]).map((raw, k) => {
      const op = decodeOp(raw, ev.type === 'ok');
      if (typeof op === 'string') bad(`micro-operation ${k}: ${op}`);
      return op as TxnOp;
    });
    if (ev.type === 'invoke') {
      if (pending.has(ev.process)) bad(`process ${String(ev.process)} invokes a transaction while its previous one is pending`);
      const id = transactions.length;
      transactions.push({ id, process: ev.process, ops, status: 'unknown', call: now, return: Number.POSITIVE_INFINITY, line: ev.line });
      pending.set(ev.process, id);
      continue;
    }
    const id = pending.get(ev.process);
    if (id === undefined) bad(`process ${String(ev.process)} completes a transaction it never invoked`);
    pending.delete(ev.process);
    const invoked = transactions[id!]!;
    if (ops.length !== invoked.ops.length || ops.some((op, k) => op.f !== invoked.ops[k]!.f || op.key !== invoked.ops[k]!.key)) {
      bad(`the completion's operations do not match the invocation on line ${invoked.line}`);
    }
    const status: TxnStatus = ev.type === 'ok' ? 'committed' : ev.type === 'fail' ? 'aborted' : 'unknown';
    const ts = ev.fields['commit-ts'];
    if (ts !== undefined && (typeof ts !== 'number' || !Number.isFinite(ts))) bad(`:commit-ts must be a number, got ${JSON.stringify(ts)}`);
    transactions[id!] = {
      id: id!,
      process: ev.process,
      ops: status === 'committed' ? ops : invoked.ops,
      status,
      call: invoked.call,
      return: status === 'unknown' ? Number.POSITIVE_INFINITY : now,
      ...(ts !== undefined ? { commitTs: ts as number } : {}),
      line: invoked.line,
    };
  }
  return { transactions, file };
}
