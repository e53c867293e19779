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
  const what = `pacta ${args.map((a) => (a.length > 80 ? `${a.slice(0, 80)}…` : a)).join(' ')}\n→ exit ${r.code}\n${r.err.slice(0, 2000)}`;
  expect(r.err, what).not.toMatch(/internal error/);
  expect(r.err, what).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect([0, 1, 2, 3, 4], what).toContain(r.code);
  if (r.code === 2 || r.code === 4) {
    // One message naming the command (or, for an unknown command, saying so), then at most a usage text.
    expect(r.err, what).toMatch(/^pacta( [a-z]+)?: \S/);
  }
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
        corruption,
        fc.constantFrom<string[]>(['show'], ['show', '--format', 'html'], ['show', '--format', 'itf'], ['show', '--format', 'mermaid'], ['replay', '--json'], ['replay', '--executor'], ['minimize', '--time', '1', '--bfs-states', '200']),
        async (seed, c, command) => {
          const file = writeCase(seed.name, corrupt(seed.bytes, c));
          const extra = command[0] === 'minimize' ? ['-o', join('out', `${file}.min.json`)] : [];
          await expectWellBehaved([command[0]!, file, ...command.slice(1), ...extra]);
        },
      ),
      settings(25_001, 60),
    );
  }, 120_000);

  it('histories: lincheck (etcd, EDN, JSON)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...lincheckSeeds), corruption, fc.boolean(), async (seed, c, json) => {
        const file = writeCase(seed.name, corrupt(seed.bytes, c));
        await expectWellBehaved(['lincheck', file, '--model', seed.model, '--time-limit', '2', ...(json ? ['--json'] : [])]);
      }),
      settings(25_002, 80),
    );
  }, 120_000);

  it('transaction histories: txcheck (JSON, EDN)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...txcheckSeeds), corruption, fc.constantFrom<string[]>([], ['--json'], ['--model', 'snapshot-isolation'], ['--anomalies', 'G1c,G-single']), async (seed, c, flags) => {
        const file = writeCase(seed.name, corrupt(seed.bytes, c));
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
  .map(([command, first, rest]) => {
    const args = [command, first, ...rest];
    if (command === 'check') args.push('--max-states', '2000', '--time', '2', '--max-depth', '30');
    if (command === 'minimize') args.push('--time', '1', '--bfs-states', '200');
    if (command === 'lincheck') args.push('--time-limit', '2');
    return args;
  });

describe('fuzz: generated argument vectors', () => {
  it('every command ends in exit 0-3 or a well-formed error', async () => {
    // Files the tokens may name, so that some vectors get past argument parsing.
    writeFileSync(join(cwd, 'trace.json'), traceSeeds[0]!.bytes);
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        await expectWellBehaved(args);
      }),
      settings(25_004, 150),
    );
  }, 240_000);
});
