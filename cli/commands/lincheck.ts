/**
 * `pacta lincheck FILE... --model register|kv`: is each recorded history linearizable?
 * Exit 0 all linearizable, 1 some not, 3 some unknown (time limit), 2 bad input (unknown
 * option, unreadable or malformed file: the message names the file and line).
 */
import { extname, resolve } from 'node:path';
import { parseEtcdLog } from '../../checker/history/etcd-log.ts';
import type { History } from '../../checker/history/history.ts';
import { parseEdnKvHistory, parseEdnRegisterHistory } from '../../checker/history/jepsen-edn.ts';
import { parseJsonHistory } from '../../checker/history/json-history.ts';
import { kvDecoder, registerDecoder } from '../../checker/history/operations.ts';
import { checkLinearizability, formatExplanation, type LinearizabilityResult } from '../../checker/linearizability/check-linearizability.ts';
import { kvModel } from '../../specs/core/models/kv.ts';
import type { SequentialModel } from '../../checker/linearizability/model.ts';
import { registerModel } from '../../specs/core/models/register.ts';
import { table } from '../format.ts';
import { Exit, UsageError, type CliIO } from '../io.ts';
import { parseCommandArgs } from '../args.ts';
import { jsonHeader } from '../json-output.ts';
import { parseMaxBytes, readHistoryFile } from '../input-file.ts';

export const lincheckUsage = `usage: pacta lincheck FILE... [options]

  FILE...                 histories to check, each on its own
  --model register|kv     the sequential model (default register): the etcd CAS register
                          (read/write/cas, nil initially) or a key-value map of strings
                          (get/put/append/cas, checked key by key)
  --format etcd|edn|json  the file format (default from the extension: .log etcd,
                          .edn/.txt Jepsen EDN, .json pacta's JSON history)
  --time-limit S          give up on a file after S seconds: result unknown, exit 3
  --json                  one JSON object per file per line: file, result, operations,
                          seconds (checking time, reading excluded), explanation on failure
  --max-bytes N           refuse a file larger than N bytes (default 256M; at most 512M)

  A history must be a regular file (not a pipe, device or folder) with at least one operation.`;

const options = {
  model: { type: 'string' },
  format: { type: 'string' },
  'time-limit': { type: 'string' },
  json: { type: 'boolean' },
  'max-bytes': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Format = 'etcd' | 'edn' | 'json';
type ModelName = 'register' | 'kv';

function formatOf(file: string, given: Format | undefined): Format {
  if (given) return given;
  const ext = extname(file).toLowerCase();
  if (ext === '.log') return 'etcd';
  if (ext === '.edn' || ext === '.txt') return 'edn';
  if (ext === '.json') return 'json';
  throw new UsageError(`cannot tell the format of ${file} from its extension; pass --format etcd|edn|json`);
}

function readHistory(path: string, label: string, format: Format, model: ModelName, maxBytes: number): History {
  const history = parseHistory(readHistoryFile(path, label, maxBytes), label, format, model);
  if (history.operations.length === 0) throw new UsageError(`${label} holds no client operations: nothing to check`);
  return history;
}

function parseHistory(text: string, label: string, format: Format, model: ModelName): History {
  if (format === 'etcd') {
    if (model !== 'register') throw new UsageError(`${label}: etcd logs are register histories; use --model register`);
    return parseEtcdLog(text, label);
  }
  if (format === 'edn') return model === 'kv' ? parseEdnKvHistory(text, label) : parseEdnRegisterHistory(text, label);
  return model === 'kv' ? parseJsonHistory(text, kvDecoder, label) : parseJsonHistory(text, registerDecoder, label);
}

/** The JSON line printed for one file with --json. */
function jsonLine(file: string, r: LinearizabilityResult): string {
  return JSON.stringify({
    ...jsonHeader('lincheck'),
    file,
    result: r.result,
    operations: r.operations,
    seconds: Number(r.seconds.toFixed(6)),
    partitions: r.partitions,
    ...(r.explanation ? { explanation: r.explanation } : {}),
  });
}

/** Runs `pacta lincheck`; resolves to the exit code (main.ts reports usage and history format errors, exit 2). */
export async function lincheckCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, options, lincheckUsage, io);
  if (!parsed) return Exit.ok;
  const { values: v, positionals: files } = parsed;
  if (files.length === 0) throw new UsageError(`expected at least one history file\n\n${lincheckUsage}`);
  const model = (v.model ?? 'register') as ModelName;
  if (model !== 'register' && model !== 'kv') throw new UsageError(`--model expects register or kv, got '${v.model}'`);
  const format = v.format as Format | undefined;
  if (format !== undefined && !['etcd', 'edn', 'json'].includes(format)) throw new UsageError(`--format expects etcd, edn or json, got '${v.format}'`);
  const limit = v['time-limit'] === undefined ? undefined : Number(v['time-limit']);
  if (limit !== undefined && !(limit > 0)) throw new UsageError(`--time-limit expects a positive number of seconds, got '${v['time-limit']}'`);

  const maxBytes = parseMaxBytes(v['max-bytes']);
  // Read every file first: bad input is reported before any checking starts.
  const histories = files.map((file) => ({ file, history: readHistory(resolve(io.cwd, file), file, formatOf(file, format), model, maxBytes) }));
  const sequential = (model === 'kv' ? kvModel : registerModel) as SequentialModel<unknown, unknown, unknown>;
  const results: { file: string; result: LinearizabilityResult }[] = [];
  for (const { file, history } of histories) {
    const result = checkLinearizability(history, sequential, limit === undefined ? {} : { timeLimitSeconds: limit });
    results.push({ file, result });
    if (v.json) io.out(`${jsonLine(file, result)}\n`);
  }

  if (!v.json) {
    io.out(
      `${table(
        ['file', 'operations', 'partitions', 'result', 'seconds'],
        results.map(({ file, result: r }) => [file, String(r.operations), String(r.partitions), r.result, r.seconds.toFixed(4)]),
        ['left', 'right', 'right', 'left', 'right'],
      )}\n`,
    );
    for (const { file, result } of results) {
      if (result.explanation) io.out(`\n${file} is not linearizable (model ${model}).\n${formatExplanation(result.explanation)}\n`);
      if (result.result === 'unknown') io.out(`\n${file}: no verdict within ${limit} s (--time-limit).\n`);
    }
  }
  if (results.some((r) => r.result.result === 'not-linearizable')) return Exit.violation;
  if (results.some((r) => r.result.result === 'unknown')) return Exit.incomplete;
  return Exit.ok;
}
