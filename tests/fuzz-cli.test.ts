/**
 * Issue 25, item 6: hostile input generated rather than listed. Corrupted files (traces, etcd
 * logs, EDN and JSON histories, transaction histories: byte flips, truncation, deep nesting,
 * spliced garbage) and generated argument vectors go through every command in-process, through
 * `main`. Every run must end with exit 0-3, or a well-formed exit 2 or 4 message: never
 * "internal error", never a stack trace, never past a per-case time bound, never a memory
 * blow-up. Seeded: a failure prints the seed and path that reproduce it.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';
import { porcupineCorpus } from './fixtures/porcupine.ts';

const repo = join(import.meta.dirname, '..');
const cwd = mkdtempSync(join(tmpdir(), 'pacta-fuzz-'));
mkdirSync(join(cwd, 'out'));

/** Generous: 2 cores shared by many processes; a hang or a runaway search is far beyond it. */
const perCaseMs = 10_000;
/** The process may grow by this much over one case before we call it unbounded. */
const perCaseGrowthBytes = 1024 ** 3;

let caseNumber = 0;

async function pacta(args: string[]): Promise<{ code: number; out: string; err: string; ms: number }> {
  const io = memoryIO(cwd);
  const start = performance.now();
  const code = await main(args, io);
  return { code, out: io.stdout, err: io.stderr, ms: performance.now() - start };
}

/** The contract every run must keep, whatever its input. */
async function expectWellBehaved(args: string[]): Promise<void> {
  const before = process.memoryUsage().rss;
  const r = await pacta(args);
  // FUZZ_TALLY=1 prints every case's command, exit and first line: to see how deep the inputs reach.
  if (process.env.FUZZ_TALLY) console.log('TALLY', args[0], r.code, Math.round(r.ms), r.err.split('\n')[0]!.slice(0, 140));
  const what = `pacta ${args.map((a) => (a.length > 80 ? `${a.slice(0, 80)}…` : a)).join(' ')}\n→ exit ${r.code}\n${r.err.slice(0, 2000)}`;
  expect(r.err, what).not.toMatch(/internal error/);
  expect(r.err, what).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect([0, 1, 2, 3, 4], what).toContain(r.code);
  if (r.code === 2 || r.code === 4) {
    // One message naming the command (or, for an unknown command, saying so), then at most a usage text.
    expect(r.err, what).toMatch(/^pacta( [a-z]+)?: \S/);
  }
  // The bundled specs are well-formed: a param out of range is the user's input, to be named as such.
  expect(r.err, what).not.toMatch(/the spec is malformed|^pacta \w+: [A-Z]\w+: /m);
  expect(r.ms, what).toBeLessThan(perCaseMs);
  expect(process.memoryUsage().rss - before, what).toBeLessThan(perCaseGrowthBytes);
}

// ---- corrupted files ----

type Corruption =
  | { kind: 'flip'; at: number; bits: number[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'nest'; at: number; open: string; depth: number; closed: boolean }
  | { kind: 'splice'; at: number; text: string }
  | { kind: 'repeat'; at: number; length: number; times: number };

/** Positions are fractions of the file, so one corruption applies to files of any size. */
const fraction = fc.double({ min: 0, max: 1, noNaN: true });
const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fraction, bits: fc.array(fc.integer({ min: 0, max: 1023 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fraction }),
  fc.record({
    kind: fc.constant('nest' as const),
    at: fraction,
    open: fc.constantFrom('[', '{"a":', '{', '(', '#{', '[{"x":'),
    depth: fc.constantFrom(10, 1_000, 100_000),
    closed: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fraction,
    text: fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('9007199254740993', '1e9', '-1', 'NaN', 'null', '"__proto__"', '{"__proto__": 1}', '\u0000', '\uFFFD', '"\\ud800"', ':invoke', 'nil', '\n\n'),
    ),
  }),
  fc.record({ kind: fc.constant('repeat' as const), at: fraction, length: fc.integer({ min: 1, max: 200 }), times: fc.integer({ min: 2, max: 50 }) }),
);

/**
 * Damage that keeps the file well-formed, so it gets past the parser to the checks behind it:
 * a JSON node replaced, removed or duplicated, an unknown field added; a line of a line-based
 * history dropped, repeated, swapped or with a number replaced.
 */
type Edit =
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'remove'; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'add-field'; at: number; name: string; value: unknown }
  | { kind: 'swap-lines'; at: number; other: number }
  | { kind: 'number'; at: number; value: string };

const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(1e9, -1, 0, 2 ** 53 + 2, -0, 1.5, '', 'quantum', '__proto__', null, [], {}, true, 'x'.repeat(10_000)),
);
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fraction, value: hostileValue }),
  fc.record({ kind: fc.constant('remove' as const), at: fraction }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fraction }),
  fc.record({ kind: fc.constant('add-field' as const), at: fraction, name: fc.constantFrom('__proto__', 'constructor', 'extra', 'spec', 'params', 'options'), value: hostileValue }),
  fc.record({ kind: fc.constant('swap-lines' as const), at: fraction, other: fraction }),
  fc.record({ kind: fc.constant('number' as const), at: fraction, value: fc.constantFrom('9007199254740993', '-1', '1e400', '0', '99999999999999999999', '1.5', 'nil', ':nil', '-0') }),
);

type Container = Record<string, unknown> | unknown[];

/** Every (container, key) pair of a JSON document, in document order. */
function slots(root: unknown): { parent: Container; key: string | number }[] {
  const found: { parent: Container; key: string | number }[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach((child, i) => (found.push({ parent: node, key: i }), visit(child)));
    else if (node !== null && typeof node === 'object') for (const [k, child] of Object.entries(node)) found.push({ parent: node as Container, key: k }), visit(child);
  };
  visit(root);
  return found;
}

function editJson(text: string, e: Edit): string {
  const root = JSON.parse(text) as unknown;
  const all = slots(root);
  const slot = all[Math.floor(e.at * all.length)];
  if (!slot) return text;
  const { parent, key } = slot;
  const isArray = Array.isArray(parent);
  switch (e.kind) {
    case 'replace':
    case 'number':
      (parent as Record<string | number, unknown>)[key] = e.kind === 'replace' ? e.value : Number(e.value);
      break;
    case 'remove':
      if (isArray) parent.splice(key as number, 1);
      else delete parent[key as string];
      break;
    case 'duplicate':
    case 'swap-lines':
      if (isArray) parent.splice(key as number, 0, structuredClone(parent[key as number]));
      else parent[`${key}2`] = structuredClone(parent[key as string]);
      break;
    case 'add-field': {
      const target = isArray ? parent : (parent[key as string] ?? parent);
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) Object.defineProperty(target, e.name, { value: e.value, enumerable: true, writable: true, configurable: true });
      else if (!isArray) Object.defineProperty(parent, e.name, { value: e.value, enumerable: true, writable: true, configurable: true });
      break;
    }
  }
  return JSON.stringify(root, null, 1);
}

function editLines(text: string, e: Edit): string {
  const lines = text.split('\n');
  const i = Math.floor(e.at * lines.length) % lines.length;
  switch (e.kind) {
    case 'remove':
      lines.splice(i, 1);
      break;
    case 'duplicate':
    case 'add-field':
      lines.splice(i, 0, lines[i]!);
      break;
    case 'swap-lines': {
      const j = Math.floor(e.other * lines.length) % lines.length;
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      break;
    }
    case 'number':
      lines[i] = lines[i]!.replace(/-?\d+/, e.value);
      break;
    case 'replace':
      lines[i] = lines[i]!.replace(/(nil|"[^"]*"|-?\d+)(?!.*(nil|"[^"]*"|-?\d+))/, JSON.stringify(e.value) ?? 'nil');
      break;
  }
  return lines.join('\n');
}

/** A damaged copy: raw bytes or a well-formed edit, JSON-aware for .json files. */
const damage = fc.oneof(
  corruption.map((c) => (bytes: Buffer, _name: string) => corrupt(bytes, c)),
  edit.map((e) => (bytes: Buffer, name: string) => Buffer.from(name.endsWith('.json') ? editJson(bytes.toString('utf8'), e) : editLines(bytes.toString('utf8'), e))),
);

function corrupt(original: Buffer, c: Corruption): Buffer {
  const at = Math.floor(c.at * original.length);
  switch (c.kind) {
    case 'flip': {
      const copy = Buffer.from(original);
      // Each flip lands near `at`: clustered damage, as a torn or garbled region is.
      for (const b of c.bits) {
        const i = Math.min(copy.length - 1, at + (b >> 3));
        if (i >= 0) copy[i]! ^= 1 << (b & 7);
      }
      return copy;
    }
    case 'truncate':
      return original.subarray(0, at);
    case 'nest': {
      const close = c.open.startsWith('[') ? ']' : c.open.startsWith('(') ? ')' : '}';
      const opens = c.open.repeat(c.depth);
      const closes = c.closed ? (c.open === '[{"x":' ? '}]' : close).repeat(c.depth) : '';
      return Buffer.concat([original.subarray(0, at), Buffer.from(opens + closes), original.subarray(at)]);
    }
    case 'splice':
      return Buffer.concat([original.subarray(0, at), Buffer.from(c.text), original.subarray(at)]);
    case 'repeat': {
      const region = original.subarray(at, at + c.length);
      return Buffer.concat([original.subarray(0, at), ...Array.from({ length: c.times }, () => region), original.subarray(at)]);
    }
  }
}

const traceSeeds = ['two-phase.commit-early.json', 'two-phase.blocking.json', 'raft-vote-twice.json'].map((name) => ({
  name,
  bytes: readFileSync(join(repo, 'traces', 'examples', name)),
}));

const lincheckSeeds = [
  { name: 'etcd.log', bytes: readFileSync(join(porcupineCorpus, 'jepsen', 'etcd_000.log')), model: 'register' },
  { name: 'kv-bad.txt', bytes: readFileSync(join(porcupineCorpus, 'kv', 'c01-bad.txt')), model: 'kv' },
  { name: 'kv-ok.edn', bytes: readFileSync(join(porcupineCorpus, 'kv', 'c01-ok.txt')), model: 'kv' },
  {
    name: 'register.json',
    model: 'register',
    bytes: Buffer.from(
      JSON.stringify(
        {
          format: 'pacta-history',
          version: 1,
          operations: [
            { process: 0, call: 0, return: 10, input: { f: 'write', value: 1 }, output: null },
            { process: 1, call: 2, return: 12, input: { f: 'cas', from: 1, to: 2 }, output: true },
            { process: 2, call: 20, return: 21, input: { f: 'read' }, output: 2 },
            { process: 0, call: 22, return: 30, input: { f: 'read' }, output: 1 },
          ],
        },
        null,
        1,
      ),
    ),
  },
];

const txcheckSeeds = [
  {
    name: 'write-skew.json',
    bytes: Buffer.from(
      JSON.stringify(
        {
          format: 'pacta-transactions',
          version: 1,
          transactions: [
            { process: 0, call: 0, return: 10, status: 'committed', ops: [['r', 'x', null], ['r', 'y', null], ['w', 'x', 1]] },
            { process: 1, call: 0, return: 10, status: 'committed', ops: [['r', 'x', null], ['r', 'y', null], ['w', 'y', 1]] },
          ],
        },
        null,
        1,
      ),
    ),
  },
  {
    name: 'append.edn',
    bytes: Buffer.from(
      [
        '{:type :invoke, :f :txn, :value [[:append :x 1] [:r :y nil]], :process 0}',
        '{:type :ok, :f :txn, :value [[:append :x 1] [:r :y [1]]], :process 0}',
        '{:type :invoke, :f :txn, :value [[:append :y 1] [:r :x nil]], :process 1}',
        '{:type :ok, :f :txn, :value [[:append :y 1] [:r :x [1]]], :process 1}',
      ].join('\n'),
    ),
  },
];

function writeCase(name: string, bytes: Buffer): string {
  const file = `case-${caseNumber++}-${name}`;
  writeFileSync(join(cwd, file), bytes);
  return file;
}

/** Fixed seeds: a failure reproduces; change one only to widen the search on purpose. */
const settings = (seed: number, numRuns: number): fc.Parameters<unknown> => ({ seed, numRuns, endOnFailure: true });

describe('fuzz: corrupted files through every command that reads them', () => {
  it('traces: show, replay, minimize', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...traceSeeds),
        damage,
        fc.constantFrom<string[]>(['show'], ['show', '--format', 'html'], ['show', '--format', 'itf'], ['show', '--format', 'mermaid'], ['replay', '--json'], ['replay', '--executor'], ['minimize', '--time', '1', '--bfs-states', '200']),
        async (seed, damaged, command) => {
          const file = writeCase(seed.name, damaged(seed.bytes, seed.name));
          const extra = command[0] === 'minimize' ? ['-o', join('out', `${file}.min.json`)] : [];
          await expectWellBehaved([command[0]!, file, ...command.slice(1), ...extra]);
        },
      ),
      settings(25_001, 60),
    );
  }, 120_000);

  it('histories: lincheck (etcd, EDN, JSON)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...lincheckSeeds), damage, fc.boolean(), async (seed, damaged, json) => {
        const file = writeCase(seed.name, damaged(seed.bytes, seed.name));
        await expectWellBehaved(['lincheck', file, '--model', seed.model, '--time-limit', '2', ...(json ? ['--json'] : [])]);
      }),
      settings(25_002, 80),
    );
  }, 120_000);

  it('transaction histories: txcheck (JSON, EDN)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...txcheckSeeds), damage, fc.constantFrom<string[]>([], ['--json'], ['--model', 'snapshot-isolation'], ['--anomalies', 'G1c,G-single']), async (seed, damaged, flags) => {
        const file = writeCase(seed.name, damaged(seed.bytes, seed.name));
        await expectWellBehaved(['txcheck', file, ...flags]);
      }),
      settings(25_003, 60),
    );
  }, 120_000);
});

// ---- generated argument vectors ----

const specs = ['two-phase', 'two-phase:commit-early', 'two-phase:bogus', 'paxos-commit', 'raft', 'raft-kv', 'percolator', 'nosuch', './missing.ts', '', ':', 'two-phase:'];
const flags = [
  '--param', '--mode', '--network', '--drop', '--dup', '--crashes', '--disk-faults', '--max-time', '--epsilon', '--clock-error', '--max-in-flight',
  '--symmetry', '--deadlock', '--fair-delivery', '--no-liveness', '--workers', '--max-depth', '--max-states', '--time', '--max-memory',
  '--check-determinism', '--no-fast-path', '--seed', '--walks', '--json', '--format', '-o', '--out', '--spec', '--executor', '--bfs-states',
  '--model', '--time-limit', '--max-bytes', '--workload', '--anomalies', '--initial-state', '--node', '--peers', '--key-file', '--data',
  '--transport', '--clients', '--layout', '--help', '-h', '--bogus', '-', '--', '--=', '---x',
];
const values = [
  '0', '1', '2', '-1', '1e9', '9007199254740993', 'NaN', 'Infinity', '0.5', 'bogus', '', ' ', 'bfs', 'dfs', 'random', 'set', 'bag', 'fifo',
  'quantum', 'rms=2', 'rms=0', 'keys=1e9', '__proto__=1', 'constructor=1', 'rms=', '=1', 'none', '200M', '1T', 'register', 'kv', 'etcd',
  'edn', 'json', 'html', 'itf', '/proc/self/status', '/dev/zero', '/', '.', 'out', 'trace.json', '127.0.0.1:1,127.0.0.1:2', 'no-such-host:1',
];
const commands = ['check', 'show', 'replay', 'minimize', 'lincheck', 'txcheck', 'run', 'list', 'help', 'chek', 'bogus', '--version', '', 'constructor', '__proto__', 'toString'];

/**
 * A command, then tokens. `check` always ends in bounds (the generated tokens before them
 * may still override or break them, which must end as a usage error, not a long search);
 * `run` never gets a cluster key, so it can fail or print a layout but never serve.
 */
const argv = fc
  .tuple(
    fc.constantFrom(...commands),
    fc.constantFrom(...specs, ...values),
    fc.array(fc.oneof(fc.constantFrom(...flags), fc.constantFrom(...values), fc.constantFrom(...specs), fc.string({ maxLength: 6 })), { maxLength: 8 }),
  )
  .map(([command, first, rest]) => bounded([command, first, ...rest]));

interface Listed { name: string; params: Record<string, unknown>; variants: (string | { name: string })[] }

/**
 * Mostly well-formed vectors, so that runs get past argument parsing into the command: a
 * command, its positional argument, then flag/value pairs it knows (with hostile values among
 * the good), and sometimes a stray token anywhere.
 */
function wellFormedArgv(catalogue: Listed[]): fc.Arbitrary<string[]> {
  const paramValue = (d: unknown) => fc.constantFrom(String(d), String(Number(d) + 1), '0', '-1', '1e9', '2.5', 'bogus', '', '9007199254740993');
  const param = (s: Listed): fc.Arbitrary<readonly string[]> => {
    const names = Object.keys(s.params);
    return names.length === 0 ? fc.constant(['--param', 'nosuch=1']) : fc.constantFrom(...names).chain((n) => paramValue(s.params[n]).map((v) => ['--param', `${n}=${v}`]));
  };
  const targetsOf = (s: Listed) => [s.name, ...s.variants.map((v) => `${s.name}:${typeof v === 'string' ? v : v.name}`)];
  /** A spec or variant with a few of that spec's own params, good values and hostile ones. */
  const target = fc.constantFrom(...catalogue).chain((s) => fc.tuple(fc.constantFrom(...targetsOf(s)), fc.array(param(s), { maxLength: 2 })).map(([t, ps]) => [t, ...ps.flat()]));
  const pairs: Record<string, fc.Arbitrary<readonly string[]>> = {
    check: fc.constantFrom(['--mode', 'dfs'], ['--mode', 'random'], ['--network', 'bag'], ['--network', 'fifo'], ['--drop'], ['--dup'], ['--crashes', '1'], ['--crashes', '-1'],
      ['--disk-faults', '1'], ['--max-time', '3'], ['--epsilon', '1'], ['--clock-error', '1'], ['--max-in-flight', '3'], ['--max-in-flight', 'none'], ['--symmetry'], ['--deadlock'],
      ['--fair-delivery'], ['--no-liveness'], ['--workers', '2'], ['--workers', '1000'], ['--max-memory', '100M'], ['--check-determinism', '10'], ['--no-fast-path'],
      ['--seed', '7'], ['--walks', '20'], ['--json'], ['--frontier-memory', '1']),
    show: fc.constantFrom(['--format', 'html'], ['--format', 'itf'], ['--format', 'mermaid'], ['--format', 'svg'], ['-o', 'out/shown'], ['-o', 'out'], ['--spec', 'raft'], ['--spec', 'two-phase']),
    replay: fc.constantFrom(['--json'], ['--executor'], ['--spec', 'raft'], ['--spec', 'two-phase'], ['--spec', 'nosuch']),
    minimize: fc.constantFrom(['--json'], ['-o', 'out/min.json'], ['-o', 'out'], ['--spec', 'two-phase'], ['--spec', 'raft'], ['--bfs-states', '0']),
    lincheck: fc.constantFrom(['--model', 'kv'], ['--model', 'register'], ['--format', 'edn'], ['--format', 'etcd'], ['--format', 'json'], ['--json'], ['--max-bytes', '100'], ['--time-limit', '0.01']),
    txcheck: fc.constantFrom(['--model', 'serializable'], ['--model', 'PL-2'], ['--anomalies', 'G0'], ['--workload', 'rw-register'], ['--workload', 'list-append'],
      ['--initial-state', 'unknown'], ['--no-wfr-keys'], ['--sequential-keys'], ['--linearizable-keys'], ['--format', 'edn'], ['--json'], ['--dot', 'out/dot'], ['--max-bytes', '10']),
    list: fc.constantFrom(['--json']),
    run: fc.constantFrom(['--layout'], ['--node', '0'], ['--peers', '127.0.0.1:1'], ['--transport', 'tcp'], ['--clients', '2'], ['--clients', '100000'], ['--data', 'out/data']),
  };
  const positional: Record<string, fc.Arbitrary<string | string[]>> = {
    check: target,
    show: fc.constantFrom('trace.json', 'etcd.log', 'out'),
    replay: fc.constantFrom('trace.json', 'raft-trace.json'),
    minimize: fc.constantFrom('trace.json', 'raft-trace.json'),
    lincheck: fc.constantFrom('etcd.log', 'kv.edn', 'trace.json', 'tx.json'),
    txcheck: fc.constantFrom('tx.json', 'kv.edn', 'trace.json'),
    list: fc.constant('--json'),
    run: target,
  };
  const stray = fc.oneof(fc.constantFrom(...flags, ...values), fc.string({ maxLength: 6 }));
  return fc.constantFrom(...Object.keys(pairs)).chain((command) =>
    fc
      .tuple(
        positional[command]!,
        fc.array(pairs[command]!, { maxLength: 4 }),
        fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: fc.tuple(stray, fc.nat()), weight: 1 }),
      )
      .map(([first, chosen, junk]) => {
        const rest = [...[first].flat(), ...chosen.flat()];
        if (junk) rest.splice(junk[1] % (rest.length + 1), 0, junk[0]);
        return bounded([command, ...rest]);
      }),
  );
}

/** Bounds appended so that a run that parses stays short: a generated token before them may break them (a usage error). */
function bounded(args: string[]): string[] {
  const [command] = args;
  if (command === 'check') args.push('--max-states', '2000', '--time', '2', '--max-depth', '30');
  if (command === 'minimize') args.push('--time', '1', '--bfs-states', '200');
  if (command === 'lincheck') args.push('--time-limit', '2');
  return args;
}

describe('fuzz: generated argument vectors', () => {
  // Files the tokens name, so that vectors get past argument parsing.
  writeFileSync(join(cwd, 'trace.json'), traceSeeds[0]!.bytes);
  writeFileSync(join(cwd, 'raft-trace.json'), traceSeeds[2]!.bytes);
  writeFileSync(join(cwd, 'etcd.log'), lincheckSeeds[0]!.bytes);
  writeFileSync(join(cwd, 'kv.edn'), lincheckSeeds[2]!.bytes);
  writeFileSync(join(cwd, 'tx.json'), txcheckSeeds[0]!.bytes);

  it('random tokens: every command ends in exit 0-3 or a well-formed error', async () => {
    await fc.assert(fc.asyncProperty(argv, async (args) => expectWellBehaved(args)), settings(25_004, 100));
  }, 240_000);

  it('well-formed vectors with hostile values: the same', async () => {
    const listed = await pacta(['list', '--json']);
    const catalogue = JSON.parse(listed.out) as Listed[];
    await fc.assert(fc.asyncProperty(wellFormedArgv(catalogue), async (args) => expectWellBehaved(args)), settings(25_005, 80));
  }, 240_000);
});
