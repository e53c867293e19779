/**
 * `pacta txcheck FILE [options]`: Elle-style checking of a transaction history (list-append or
 * rw-register, Jepsen EDN or pacta JSON). Exit 0 when the history satisfies every model asked
 * (and shows none of the anomalies asked), 1 when not, 3 when a cycle search that could decide
 * it was cut short, 2 bad input (unknown option, model or anomaly, unreadable or malformed
 * file, mixed workloads: one line naming the file and line).
 */
import { writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { HistoryCheckerError } from '../../checker/history/errors.ts';
import { MAX_EXAMPLES } from '../../checker/transactions/analysis.ts';
import { checkTransactions, formatAnomaly } from '../../checker/transactions/check-transactions.ts';
import { cycleDot } from '../../checker/transactions/explain.ts';
import { CONSISTENCY_MODELS, forbiddenAnomalies, MODEL_ALIASES, parseAnomaly, parseModel } from '../../checker/transactions/models.ts';
import { readEdnTransactions, readJsonTransactions } from '../../checker/transactions/read-transactions.ts';
import { WORKLOADS, type TransactionHistory, type Workload } from '../../checker/transactions/transaction.ts';
import { table } from '../format.ts';
import { Exit, UsageError, type CliIO } from '../io.ts';
import { parseMaxBytes, readHistoryChunks } from '../input-file.ts';
import { makeOutputDir } from '../output-dir.ts';
import { parseCommandArgs } from '../args.ts';
import { jsonHeader } from '../json-output.ts';

export const txcheckUsage = `usage: pacta txcheck FILE [options]

  FILE                    a transaction history: pacta's JSON (.json) or Jepsen EDN
                          (.edn, .txt), list-append or rw-register
  --workload W            list-append or rw-register (default: from the operations)
  --model M               a model the history must satisfy; repeatable. Elle's names:
                          read-uncommitted, read-committed, monotonic-atomic-view,
                          repeatable-read, snapshot-isolation, serializable (default),
                          strong-session-snapshot-isolation,
                          strong-session-serializable, strong-snapshot-isolation,
                          strict-serializable; external-consistency (commit timestamps);
                          Adya's PL-1, PL-2, PL-2.99, PL-SI, PL-3, PL-SS
  --anomalies A,B         look only for these anomalies (and what implies them), e.g.
                          G1c,G-single; repeatable. Without --model, no model is asked
  --initial-state S       empty: keys start nil/empty, a value nobody wrote is a
                          garbage read (list-append default); unknown: it may be an
                          initial value (rw-register default, Elle's convention)
  --no-wfr-keys           rw-register: do not infer that a write follows the version
                          the same transaction read (Elle's default)
  --sequential-keys       rw-register: keys are sequential: process order orders versions
  --linearizable-keys     rw-register: keys are linearizable: real time orders versions
  --format json|edn       the file format (default from the extension)
  --json                  print one JSON object: file, workload, valid, asked, models,
                          not, alsoNot, anomalies (cycles with steps and explanation)
  --dot DIR               write a Graphviz DOT file per cycle anomaly to DIR
  --max-bytes N           refuse a file larger than N bytes (default 256M; at most 512M)

  A history must be a regular file (not a pipe, device or folder) with at least one transaction.`;

const options = {
  workload: { type: 'string' },
  model: { type: 'string', multiple: true },
  anomalies: { type: 'string', multiple: true },
  'initial-state': { type: 'string' },
  'no-wfr-keys': { type: 'boolean' },
  'sequential-keys': { type: 'boolean' },
  'linearizable-keys': { type: 'boolean' },
  format: { type: 'string' },
  json: { type: 'boolean' },
  dot: { type: 'string' },
  'max-bytes': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function readTransactions(path: string, label: string, format: string | undefined, maxBytes: number): TransactionHistory {
  const kind = format ?? (extname(label).toLowerCase() === '.json' ? 'json' : ['.edn', '.txt'].includes(extname(label).toLowerCase()) ? 'edn' : undefined);
  if (kind !== 'json' && kind !== 'edn') {
    throw new UsageError(format ? `--format expects json or edn, got '${format}'` : `cannot tell the format of ${label} from its extension; pass --format json|edn`);
  }
  // Read as the text streams from the file: a large history never sits in memory as text.
  const chunks = readHistoryChunks(path, label, maxBytes);
  const history = kind === 'json' ? readJsonTransactions(chunks, label) : readEdnTransactions(chunks, label);
  if (history.transactions.length === 0) throw new UsageError(`${label} holds no transactions: nothing to check`);
  return history;
}

/** Names given as values of a repeatable option, each possibly comma-separated. */
const names = (values: readonly string[] | undefined): string[] => (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);

/** Runs `pacta txcheck`; resolves to the exit code (main.ts reports usage and history format errors, exit 2). */
export async function txcheckCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, options, txcheckUsage, io);
  if (!parsed) return Exit.ok;
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`expected one history file, got ${positionals.length}\n\n${txcheckUsage}`);
  const models = names(v.model);
  const anomalies = names(v.anomalies);
  try {
    models.forEach(parseModel);
    anomalies.forEach(parseAnomaly);
  } catch (e) {
    if (e instanceof HistoryCheckerError) throw new UsageError(e.message.replace(/^checkTransactions: /, ''));
    throw e;
  }
  if (v.workload !== undefined && !WORKLOADS.includes(v.workload as Workload)) throw new UsageError(`--workload expects ${WORKLOADS.join(' or ')}, got '${v.workload}'`);
  const initialState = v['initial-state'];
  if (initialState !== undefined && initialState !== 'empty' && initialState !== 'unknown') throw new UsageError(`--initial-state expects empty or unknown, got '${initialState}'`);
  if (v.dot !== undefined && v.dot === '') throw new UsageError('--dot expects a directory');
  const file = positionals[0]!;
  const history = readTransactions(resolve(io.cwd, file), file, v.format, parseMaxBytes(v['max-bytes']));
  const result = checkTransactions(history, {
    models,
    anomalies,
    ...(v.workload !== undefined ? { workload: v.workload as Workload } : {}),
    ...(initialState !== undefined ? { initialState } : {}),
    wfrKeys: !v['no-wfr-keys'],
    sequentialKeys: v['sequential-keys'] ?? false,
    linearizableKeys: v['linearizable-keys'] ?? false,
  });

  if (v.dot !== undefined) {
    const dir = makeOutputDir(io.cwd, v.dot, '--dot');
    try {
      for (const a of result.anomalies) {
        if (a.cycle) writeFileSync(join(dir, `${a.type}.dot`), cycleDot(`${file}: ${a.type}`, history.transactions, a.cycle));
      }
    } catch (e) {
      throw new UsageError(`cannot write DOT files to ${v.dot}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }

  if (v.json) {
    io.out(`${JSON.stringify({ ...jsonHeader('txcheck'), file, ...result, seconds: Number(result.seconds.toFixed(6)) })}\n`);
  } else {
    const searched = new Set(result.searched);
    io.out(
      `${file}: ${result.workload}, ${result.transactions} transactions, ${result.effective} took effect${result.timestamps ? ', with commit timestamps' : ''}` +
        `${result.askedAnomalies.length > 0 ? `; looking for ${result.askedAnomalies.join(', ')}` : ''}\n`,
    );
    const verdict = (m: (typeof CONSISTENCY_MODELS)[number]): string => {
      if (!result.models[m]) return 'ruled out';
      return [...forbiddenAnomalies(m)].every((a) => searched.has(a)) ? 'holds' : 'not ruled out (not fully checked)';
    };
    const aliases = (m: string): string => {
      const a = Object.entries(MODEL_ALIASES).filter(([, to]) => to === m).map(([k]) => k).filter((k) => k.startsWith('PL-'));
      return a.length > 0 ? ` (${a.join(', ')})` : '';
    };
    io.out(`${table(['model', 'verdict'], CONSISTENCY_MODELS.map((m) => [`${m}${aliases(m)}${result.asked.includes(m) ? ' [asked]' : ''}`, verdict(m)]))}\n`);
    if (result.not.length > 0) {
      io.out(`Ruled out: ${result.not.join(', ')}${result.alsoNot.length > 0 ? ` (and so ${result.alsoNot.join(', ')})` : ''}\n`);
    }
    if (result.anomalies.length === 0) io.out('No anomalies found.\n');
    for (const a of result.anomalies) io.out(`\n${formatAnomaly(a)}\n`);
    const more = Object.entries(result.counts).filter(([type, n]) => n! > result.anomalies.filter((a) => a.type === type).length);
    if (more.length > 0) io.out(`\n(${more.map(([type, n]) => `${n} ${type} in all`).join(', ')}; the first ${MAX_EXAMPLES} of each are shown)\n`);
    if (result.incomplete.length > 0) io.out(`\nSearch cut short (budget) for: ${result.incomplete.join(', ')}\n`);
    io.out(`\n${result.valid ? (result.complete ? 'Valid' : 'Not decided (search cut short)') : 'Invalid'} for ${[...result.asked, ...result.askedAnomalies].join(', ')}.\n`);
  }
  if (!result.valid) return Exit.violation;
  return result.complete ? Exit.ok : Exit.incomplete;
}
