/**
 * `pacta txcheck FILE [--model ...]`: Elle-style anomaly detection on a transaction history.
 * Exit 0 when the history satisfies the model, 1 when it does not, 2 bad input (unknown
 * option, unreadable or malformed file: the message names the file and line).
 */
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import {
  checkTransactions,
  CONSISTENCY_MODELS,
  formatAnomaly,
  type ConsistencyModel,
} from '../../checker/transactions/check-transactions.ts';
import { parseEdnTransactions, parseJsonTransactions } from '../../checker/transactions/read-transactions.ts';
import type { TransactionHistory } from '../../checker/transactions/transaction.ts';
import { table } from '../format.ts';
import { Exit, UsageError, type CliIO } from '../io.ts';
import { parseCommandArgs } from '../args.ts';

export const txcheckUsage = `usage: pacta txcheck FILE [options]

  FILE                    a transaction history: pacta's JSON (.json) or Elle's
                          rw-register EDN (.edn, .txt)
  --model M               serializable (default), strict-serializable,
                          snapshot-isolation or external-consistency
  --format json|edn       the file format (default from the extension)
  --json                  print one JSON object: file, model, valid, models, anomalies
                          (each with its shortest cycle), transactions, seconds`;

const options = {
  model: { type: 'string' },
  format: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function readTransactions(path: string, label: string, format: string | undefined): TransactionHistory {
  const kind = format ?? (extname(label).toLowerCase() === '.json' ? 'json' : ['.edn', '.txt'].includes(extname(label).toLowerCase()) ? 'edn' : undefined);
  if (kind !== 'json' && kind !== 'edn') {
    throw new UsageError(format ? `--format expects json or edn, got '${format}'` : `cannot tell the format of ${label} from its extension; pass --format json|edn`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${label}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return kind === 'json' ? parseJsonTransactions(text, label) : parseEdnTransactions(text, label);
}

/** Runs `pacta txcheck`; resolves to the exit code (main.ts reports usage and history format errors, exit 2). */
export async function txcheckCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, options, txcheckUsage, io);
  if (!parsed) return Exit.ok;
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`expected one history file, got ${positionals.length}\n\n${txcheckUsage}`);
  const model = (v.model ?? 'serializable') as ConsistencyModel;
  if (!CONSISTENCY_MODELS.includes(model)) throw new UsageError(`--model expects one of ${CONSISTENCY_MODELS.join(', ')}, got '${v.model}'`);
  const file = positionals[0]!;
  const history = readTransactions(resolve(io.cwd, file), file, v.format);
  const result = checkTransactions(history, { model });

  if (v.json) {
    io.out(`${JSON.stringify({ file, ...result, seconds: Number(result.seconds.toFixed(6)) })}\n`);
  } else {
    io.out(`${file}: ${result.transactions} transactions, ${result.effective} took effect${result.timestamps ? ', with commit timestamps' : ''}\n`);
    io.out(
      `${table(
        ['model', 'verdict'],
        CONSISTENCY_MODELS.map((m) => [m === model ? `${m} (asked)` : m, result.models[m] ? 'holds' : 'violated']),
      )}\n`,
    );
    if (result.anomalies.length === 0) io.out('No anomalies found.\n');
    for (const a of result.anomalies) io.out(`\n${formatAnomaly(a)}\n`);
  }
  return result.valid ? Exit.ok : Exit.violation;
}
