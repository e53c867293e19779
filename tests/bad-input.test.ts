/**
 * The bad inputs of issue 25's audit (325 hostile inputs against every command; 45 failed),
 * each with the exit class it must get and the message that says why: exit 2 with one line
 * naming the file and what was expected, never "internal error", never a hang, never code
 * run from a data file. Commands run in-process through `main`.
 */
import { mkdirSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';

const root = mkdtempSync(join(tmpdir(), 'pacta-bad-input-'));
/** The working directory of every command here (a project of its own). */
const cwd = join(root, 'project');
/** Somewhere else: where a downloaded bug report lands. */
const elsewhere = join(root, 'report');
mkdirSync(cwd);
mkdirSync(elsewhere);
afterAll(() => {
  // Left for inspection on failure; the OS cleans tmp.
});

const example = readFileSync(join(import.meta.dirname, '..', 'traces', 'examples', 'two-phase.commit-early.json'), 'utf8');

async function pacta(...args: string[]) {
  const io = memoryIO(cwd);
  const code = await main(args, io);
  return { code, out: io.stdout, err: io.stderr };
}

function write(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function edited(edit: (t: Record<string, any>) => void): string {
  const t = JSON.parse(example);
  edit(t);
  return JSON.stringify(t, null, 1);
}

/** A module that leaves a file behind when it runs: the proof that data ran code. */
function evilModule(dir: string, name: string): { module: string; ran: () => boolean } {
  const marker = join(dir, `${name}.RAN`);
  const module = write(dir, `${name}.mjs`, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default {};\n`);
  return { module, ran: () => existsSync(marker) };
}

describe('data never runs code', () => {
  it('show renders a trace naming a module beside it without loading the module (every format but itf)', async () => {
    // Even under the working directory: show renders from the trace alone.
    const evil = evilModule(cwd, 'shown');
    const trace = write(cwd, 'evil-trace.json', edited((t) => (t.spec = './shown.mjs')));
    for (const format of ['text', 'mermaid', 'html']) {
      const r = await pacta('show', trace, '--format', format);
      expect(r.code, r.err).toBe(0);
      expect(evil.ran()).toBe(false);
    }
    const text = await pacta('show', trace);
    expect(text.out).toMatch(/violates "consistent: no RM committed while another aborted" after 3 steps/);
    const itf = await pacta('show', trace, '--format', 'itf');
    expect(itf).toMatchObject({ code: 2, err: expect.stringMatching(/--format itf needs the trace's spec, "\.\/shown\.mjs", which is not bundled: name it with --spec <file>/) });
    expect(evil.ran()).toBe(false);
  });

  it('replay and minimize refuse a spec file outside the working directory, and say how to allow it', async () => {
    const evil = evilModule(elsewhere, 'evil');
    const trace = write(elsewhere, 'evil-trace.json', edited((t) => (t.spec = './evil.mjs')));
    const absolute = write(elsewhere, 'evil-abs.json', edited((t) => (t.spec = evil.module)));
    for (const command of ['replay', 'minimize']) {
      for (const file of [trace, absolute]) {
        const r = await pacta(command, file);
        expect(r.code).toBe(2);
        expect(r.err).toMatch(/outside the working directory: a trace is data, and pacta does not load code a data file points to\. If you trust that file, name it yourself: --spec \S*evil\.mjs/);
        expect(evil.ran()).toBe(false);
      }
    }
  });

  it('a symlink under the working directory to a module elsewhere is outside too', async () => {
    const { symlinkSync } = await import('node:fs');
    const evil = evilModule(root, 'target');
    symlinkSync(evil.module, join(cwd, 'linked.mjs'));
    const trace = write(cwd, 'linked-trace.json', edited((t) => (t.spec = './linked.mjs')));
    expect(await pacta('replay', trace)).toMatchObject({ code: 2, err: expect.stringMatching(/outside the working directory/) });
    expect(evil.ran()).toBe(false);
  });

  it('--spec names the spec explicitly (a bundled name here), and replay runs on it', async () => {
    const trace = write(elsewhere, 'named.json', edited((t) => (t.spec = './gone.mjs')));
    expect(await pacta('replay', trace)).toMatchObject({ code: 2 });
    expect(await pacta('replay', trace, '--spec', 'two-phase')).toMatchObject({ code: 0, out: expect.stringMatching(/replays: all 3 steps/) });
  });

  it('trace options are validated strictly: an unknown network or option is an error, not a default', async () => {
    const cases: [string, (t: Record<string, any>) => void, RegExp][] = [
      ['network "quantum"', (t) => (t.options.network = 'quantum'), /options\.network: expected "set", "bag", "fifo", got "quantum"/],
      ['an unknown option', (t) => (t.options.teleport = true), /options\.teleport: unknown option/],
      ['a negative crash bound', (t) => (t.options.crashes = -1), /options\.crashes: expected an integer ≥ 0, got -1/],
      ['drop given as a string', (t) => (t.options.drop = 'yes'), /options\.drop: expected true or false, got "yes"/],
      ['a __proto__ option', (t) => (t.options = JSON.parse('{"network":"bag","__proto__":{"x":1}}')), /options\.__proto__: unknown option/],
    ];
    for (const [what, edit, message] of cases) {
      const file = write(cwd, 'opts.json', edited(edit));
      for (const command of ['replay', 'show', 'minimize']) {
        const r = await pacta(command, file);
        expect(r.code, `${command}, ${what}: ${r.err}`).toBe(2);
        expect(r.err, what).toMatch(message);
      }
    }
  });
});

describe('replay --executor of a trace that does not fit the spec', () => {
  it('a malformed message is exit 2 naming the file and the step (an in-flight one too: tests/audit/issue-25.sh)', async () => {
    const cases: [string, (t: Record<string, any>) => void, RegExp][] = [
      ['delivered.json', (t) => (t.steps[2].event.msg = { kind: 'bogus' }), /delivered\.json: replayOnExecutor: step 2: msg\.kind: expected one of prepared, commit, abort, got "bogus" \(the trace does not fit two-phase's schemas\)/],
    ];
    for (const [name, edit, message] of cases) {
      const file = write(cwd, name, edited(edit));
      expect(await pacta('replay', file, '--executor'), name).toMatchObject({ code: 2, err: expect.stringMatching(message) });
    }
  });
});

describe('nesting past the documented depth is bad input (exit 2), not a stack overflow', () => {
  const N = 100_000;
  it('a trace nested 100,000 deep inside a node state, and a malformed one', async () => {
    const text = example.replace('"state": "working"', `"state": ${'['.repeat(N)}0${']'.repeat(N)}`);
    expect(text).not.toBe(example);
    const deep = write(cwd, 'deep.json', text);
    const open = write(cwd, 'deep-open.json', '['.repeat(N));
    for (const command of ['show', 'replay', 'minimize']) {
      for (const file of [deep, open]) {
        const r = await pacta(command, file);
        expect(r.code, `${command} ${file}: ${r.err}`).toBe(2);
        expect(r.err).toMatch(/nested deeper than 1000 levels at line \d+ \(pacta reads traces nested at most 1000 deep\)/);
      }
    }
  });
});

describe('history checkers: no wrong verdict, no hang', () => {
  const etcd = (lines: string[]) => `${lines.map((l) => `INFO  jepsen.util - ${l}`).join('\n')}\n`;

  it('lincheck compares integers above 2^53 exactly: a read of ...992 after a write of ...993 is not linearizable', async () => {
    const log = write(cwd, 'big.log', etcd(['0\t:invoke\t:write\t9007199254740993', '0\t:ok\t:write\t9007199254740993', '1\t:invoke\t:read\tnil', '1\t:ok\t:read\t9007199254740992']));
    const r = await pacta('lincheck', log);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/Stuck: #1 p1 read\(\) -> 9007199254740992/);
    expect(r.out).toMatch(/State after it: 9007199254740993/);
    const json = await pacta('lincheck', log, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out).result).toBe('not-linearizable');
    // and the same digits read back are linearizable (exact, not merely different)
    const same = write(cwd, 'same.log', etcd(['0\t:invoke\t:cas\t[9007199254740993 18446744073709551617]', '0\t:fail\t:cas\t[9007199254740993 18446744073709551617]', '1\t:invoke\t:write\t18446744073709551617', '1\t:ok\t:write\t18446744073709551617', '2\t:invoke\t:read\tnil', '2\t:ok\t:read\t18446744073709551617']));
    expect(await pacta('lincheck', same)).toMatchObject({ code: 0 });
  });

  it('JSON and EDN register histories refuse integers a double cannot hold, rather than round them', async () => {
    const json = write(cwd, 'big.json', JSON.stringify({ format: 'pacta-history', version: 1, operations: [{ process: 0, call: 0, return: 1, input: { f: 'write', value: 1 }, output: null }] }).replace('"value":1', '"value":9007199254740993'));
    expect(await pacta('lincheck', json)).toMatchObject({ code: 2, err: expect.stringMatching(/big\.json:\d+: operation 0: 9007199254740992 is an integer beyond ±\(2\^53 - 1\).*write it as a string/) });
    const edn = write(cwd, 'big.edn', '{:process 0, :type :invoke, :f :write, :value 9007199254740993}\n{:process 0, :type :ok, :f :write, :value 9007199254740993}\n');
    expect(await pacta('lincheck', edn)).toMatchObject({ code: 2, err: expect.stringMatching(/big\.edn:1: .*integer beyond ±\(2\^53 - 1\)/) });
  });

  it('an empty history is an error (exit 2), for lincheck and txcheck', async () => {
    for (const name of ['empty.log', 'empty.edn', 'empty.json', 'blank.edn']) write(cwd, name, name.startsWith('blank') ? '\n  \n' : '');
    for (const name of ['empty.log', 'empty.edn', 'empty.json', 'blank.edn']) {
      expect(await pacta('lincheck', name)).toMatchObject({ code: 2, err: expect.stringMatching(new RegExp(`${name.replace('.', '\\.')} is empty: a history needs at least one operation`)) });
    }
    for (const name of ['empty.edn', 'empty.json']) expect(await pacta('txcheck', name)).toMatchObject({ code: 2, err: expect.stringMatching(/is empty/) });
    // no client operation at all (only the nemesis), or an empty operations array
    write(cwd, 'nemesis.edn', '{:process :nemesis, :type :info, :f :start, :value nil}\n');
    expect(await pacta('lincheck', 'nemesis.edn')).toMatchObject({ code: 2, err: expect.stringMatching(/nemesis\.edn holds no client operations: nothing to check/) });
    write(cwd, 'none.json', '{"format": "pacta-history", "version": 1, "operations": []}');
    expect(await pacta('lincheck', 'none.json')).toMatchObject({ code: 2, err: expect.stringMatching(/none\.json holds no client operations/) });
  });

  it('history paths must be regular files: a FIFO, /dev/zero and a folder are refused at once (no hang)', async () => {
    const { execFileSync } = await import('node:child_process');
    const fifo = join(cwd, 'pipe.log');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(join(cwd, 'folder.log'));
    const cases: [string[], RegExp][] = [
      [['lincheck', '--format', 'etcd', fifo], /pipe\.log is a named pipe: history files must be regular files/],
      [['txcheck', '--format', 'edn', fifo], /pipe\.log is a named pipe/],
      [['lincheck', '--format', 'etcd', '/dev/zero'], /\/dev\/zero is a device: history files must be regular files/],
      [['txcheck', '--format', 'edn', '/dev/zero'], /\/dev\/zero is a device/],
      [['lincheck', 'folder.log'], /folder\.log is a directory, not a history file/],
      [['txcheck', '--format', 'edn', 'folder.log'], /folder\.log is a directory/],
      [['lincheck', 'missing.log'], /cannot read missing\.log: no such file/],
    ];
    for (const [args, message] of cases) expect(await pacta(...args), args.join(' ')).toMatchObject({ code: 2, err: expect.stringMatching(message) });
  });

  it('a history larger than --max-bytes is refused before it is read', async () => {
    const log = write(cwd, 'small.log', etcd(['0\t:invoke\t:read\tnil', '0\t:ok\t:read\tnil']));
    expect(await pacta('lincheck', log, '--max-bytes', '10')).toMatchObject({ code: 2, err: expect.stringMatching(/small\.log is \d+ bytes, more than the 10 bytes allowed \(--max-bytes raises the limit/) });
    expect(await pacta('lincheck', log, '--max-bytes', 'lots')).toMatchObject({ code: 2, err: expect.stringMatching(/--max-bytes expects a size/) });
    expect(await pacta('lincheck', log, '--max-bytes', '1K')).toMatchObject({ code: 0 });
  });

  it('EDN and JSON histories nested 100,000 deep are refused with the line (no stack overflow)', async () => {
    const N = 100_000;
    write(cwd, 'deep.edn', `${'['.repeat(N)}${']'.repeat(N)}`);
    write(cwd, 'deep-form.edn', `{:process 0 :type :invoke :f :write :value ${'['.repeat(N)}${']'.repeat(N)}}\n`);
    write(cwd, 'deep.json', `${'['.repeat(N)}${']'.repeat(N)}`);
    for (const command of ['lincheck', 'txcheck']) {
      for (const name of ['deep.edn', 'deep-form.edn']) {
        expect(await pacta(command, name), `${command} ${name}`).toMatchObject({ code: 2, err: expect.stringMatching(new RegExp(`${name.replace('.', '\\.')}:1: nested deeper than 1000 levels \\(pacta reads EDN nested at most 1000 deep\\)`)) });
      }
      // txcheck reads JSON as it streams: a top-level array is refused as not its object at once
      const json = command === 'lincheck' ? 'deep.json' : write(cwd, 'deep-tx.json', `{"format": "pacta-transactions", "version": 1,\n"transactions": [${'['.repeat(N)}${']'.repeat(N)}]}`);
      expect(await pacta(command, json)).toMatchObject({ code: 2, err: expect.stringMatching(new RegExp(`deep(-tx)?\\.json:${command === 'lincheck' ? 1 : 2}: nested deeper than 1000 levels \\(pacta reads JSON`)) });
    }
    expect(await pacta('txcheck', 'deep.json')).toMatchObject({ code: 2, err: expect.stringMatching(/deep\.json:1: expected an object \{"format": "pacta-transactions"/) });
  });
});

describe('the environment and the command line are input too (exit 2, not "internal error")', () => {
  it('check --out naming an existing file or a folder that cannot be made is refused before the search', async () => {
    write(cwd, 'a-file', '{}');
    expect(await pacta('check', 'two-phase:commit-early', '--out', 'a-file')).toMatchObject({ code: 2, err: expect.stringMatching(/--out a-file: \S*a-file exists and is not a folder/) });
    expect(await pacta('check', 'two-phase:commit-early', '--out', 'a-file/deeper')).toMatchObject({ code: 2, err: expect.stringMatching(/exists and is not a folder/) });
    // /proc: Node's recursive mkdir retries forever there; ours stops at the first level it cannot make
    expect(await pacta('check', 'two-phase:commit-early', '--out', '/proc/pacta-nope/traces')).toMatchObject({ code: 2, err: expect.stringMatching(/--out \/proc\/pacta-nope\/traces: cannot create the folder \/proc\/pacta-nope/) });
    expect(await pacta('show', write(cwd, 'ok.json', example), '-o', '/proc/pacta-nope/x')).toMatchObject({ code: 2, err: expect.stringMatching(/--out \/proc\/pacta-nope\/x: the folder \/proc\/pacta-nope does not exist/) });
  });

  it('-o / --out naming a folder where a file is written is exit 2 naming the path (was a raw EISDIR)', async () => {
    const trace = write(cwd, 'to-folder.json', example);
    mkdirSync(join(cwd, 'a-folder'), { recursive: true });
    const isFolder = /^pacta (show|minimize): --out a-folder: \S*a-folder is a folder; --out expects the path of a file to write\n$/;
    for (const command of ['show', 'minimize']) {
      for (const flag of ['-o', '--out']) expect(await pacta(command, trace, flag, 'a-folder')).toMatchObject({ code: 2, err: expect.stringMatching(isFolder) });
    }
    expect(await pacta('show', trace, '--format', 'html', '-o', 'no-such-folder/t.html')).toMatchObject({ code: 2, err: expect.stringMatching(/--out no-such-folder\/t\.html: the folder \S*no-such-folder does not exist/) });
    // check writes its trace into --out under a name of its own: a folder in the way is named too
    mkdirSync(join(cwd, 'traces-in-the-way', 'two-phase.commit-early.bfs.violation.json'), { recursive: true });
    expect(await pacta('check', 'two-phase:commit-early', '--out', 'traces-in-the-way')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^pacta check: --out: cannot write \S*two-phase\.commit-early\.bfs\.violation\.json: it is a folder; a file was expected\n$/),
    });
  });

  it('pacta run: a corrupt log header and an unresolvable peer are exit 2 naming them', async () => {
    const { chmodSync } = await import('node:fs');
    const key = write(cwd, 'cluster.key', 'ab'.repeat(32));
    chmodSync(key, 0o600);
    const peers = (first: string) => `${first},127.0.0.1:17202,127.0.0.1:17203,127.0.0.1:17204,127.0.0.1:17205`;
    mkdirSync(join(cwd, 'corrupt'));
    write(join(cwd, 'corrupt'), 'node-0.log', 'GARBAGEGARBAGE!!');
    expect(await pacta('run', 'raft-kv', '--node', '0', '--peers', peers('127.0.0.1:17201'), '--key-file', key, '--data', 'corrupt', '--quiet')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^pacta run: server1 \(durable log\): cannot recover: openDurableLog: \S*corrupt\/node-0\.log is not a pacta log \(bad header\); move the file away/),
    });
    // looked up before the node or client starts (member 3 is a client)
    expect(await pacta('run', 'raft-kv', '--node', '3', '--peers', peers('nosuchhost.invalid:17201'), '--key-file', key, '--quiet')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^pacta run: --peers: cannot resolve the host 'nosuchhost\.invalid' \(member 0\)/),
    });
  });

  it("pacta run's errors name the flag, not the executor API behind it (startCluster, startNode)", async () => {
    const { chmodSync } = await import('node:fs');
    const key = write(cwd, 'run-flags.key', 'cd'.repeat(32));
    chmodSync(key, 0o600);
    const node = (...extra: string[]) => pacta('run', 'two-phase', '--node', '0', '--peers', '127.0.0.1:17211,127.0.0.1:17212,127.0.0.1:17213', '--key-file', key, '--data', 'run-flags', '--quiet', ...extra);
    const cases: [Promise<{ code: number; err: string }>, RegExp][] = [
      [pacta('run', 'two-phase', '--layout', '--param', 'rms=100000'), /^pacta run: param 'rms' must be from 1 to 255, got 100000\n$/],
      [node('--param', 'rms=100000'), /^pacta run: param 'rms' must be from 1 to 255, got 100000\n$/],
      [node('--param', 'bogus=1'), /^pacta run: spec 'two-phase' has no param 'bogus'/],
      [node(), /^pacta run: --peers: two-phase under \{"rms":3\} has 4 node\(s\): give 4 peer addresses, got 3\n$/],
      [pacta('run', 'raft-kv', '--layout', '--clients', '100000'), /^pacta run: --clients: clients must be an integer from 0 to \d+, got 100000\n$/],
    ];
    for (const [run, message] of cases) {
      const r = await run;
      expect(r).toMatchObject({ code: 2, err: expect.stringMatching(message) });
      expect(r.err).not.toMatch(/startCluster|startNode|ClusterLayout|connectClient/);
    }
  });

  it('unknown flags and arguments are rejected, also by list', async () => {
    expect(await pacta('list', '--bogus')).toMatchObject({ code: 2, err: expect.stringMatching(/Unknown option '--bogus'/) });
    expect(await pacta('list', 'two-phase')).toMatchObject({ code: 2, err: expect.stringMatching(/unexpected argument 'two-phase'/) });
    expect(await pacta('list', '--json')).toMatchObject({ code: 0 });
  });

  it('--param __proto__=1 (and constructor) name no param', async () => {
    for (const p of ['__proto__=1', 'constructor=1', 'toString=x']) {
      expect(await pacta('check', 'two-phase', '--param', p)).toMatchObject({ code: 2, err: expect.stringMatching(/spec 'two-phase' has no param '(__proto__|constructor|toString)' \(params: rms\)/) });
    }
  });
});

describe('params declare ranges, checked before anything is allocated', () => {
  it('--param outside its range or not among its values is exit 2 naming the range (raft-kv)', async () => {
    const cases: [string, RegExp][] = [
      ['reads=bogus', /param 'reads' must be one of "log", "lease", "follower", "index", got "bogus"/],
      ['keys=1e9', /param 'keys' must be from 1 to 1048576, got 1000000000/],
      ['values=-5', /param 'values' must be from 1 to 4294967295, got -5/],
      ['keys=2.5', /param 'keys' must be an integer, got 2\.5/],
      // In range, but the model's clients would list 10^8 operations (a fatal out-of-memory before).
      ['values=100000000', /params keys=1 and values=100000000 give the model's clients 100000001 operations to choose from at each request; at most 4096/],
    ];
    for (const [param, message] of cases) {
      const started = Date.now();
      expect(await pacta('check', 'raft-kv', '--param', param, '--max-states', '2000'), param).toMatchObject({ code: 2, err: expect.stringMatching(message) });
      expect(Date.now() - started).toBeLessThan(10_000);
    }
  });

  it('a trace whose params are out of range is refused before its model is built', async () => {
    const raft = readFileSync(join(import.meta.dirname, '..', 'traces', 'examples', 'raft-lease-ignores-skew.json'), 'utf8');
    const t = JSON.parse(raft);
    t.params.keys = 1e9;
    const file = write(cwd, 'raft-keys.json', JSON.stringify(t));
    for (const command of ['replay', 'minimize']) {
      expect(await pacta(command, file), command).toMatchObject({ code: 2, err: expect.stringMatching(/raft-keys\.json: param 'keys' must be from 1 to 1048576, got 1000000000/) });
    }
  });

  it('a spec whose default does not fit its own range is malformed', async () => {
    const { protocol, t } = await import('../specs/core/index.ts');
    const spec = protocol({ name: 'ranged', params: { n: { default: 0, min: 1, max: 3 } }, messages: t.union('kind', { ping: {} }) });
    expect(() => spec.define({ roles: { a: spec.role(t.u32)({ count: 1, init: () => 0 }) } })).toThrow(/param 'n' = 0 does not fit its own range: it must be from 1 to 3/);
    const ok = protocol({ name: 'ranged', params: { n: { default: 2, min: 1, max: 3 } }, messages: t.union('kind', { ping: {} }) });
    const p = ok.define({ roles: { a: ok.role(t.u32)({ count: (q) => q.n, init: () => 0 }) } });
    expect(p.params).toEqual({ n: 2 });
    const { resolveParams } = await import('../specs/core/params.ts');
    expect(() => resolveParams(p, { n: 4 })).toThrow(/param 'n' must be from 1 to 3, got 4/);
  });
});

describe('bounded resources', () => {
  it('--workers beyond the cores needs --force, and never exceeds 256', async () => {
    const { availableParallelism } = await import('node:os');
    const cores = Math.max(1, availableParallelism());
    expect(await pacta('check', 'two-phase', '--workers', '1000')).toMatchObject({ code: 2, err: expect.stringMatching(/--workers expects at most 256, got 1000/) });
    expect(await pacta('check', 'two-phase', '--workers', String(cores + 1))).toMatchObject({ code: 2, err: expect.stringMatching(new RegExp(`--workers ${cores + 1} is more than the ${cores} cores available; add --force`)) });
    expect(await pacta('check', 'two-phase', '--workers', String(cores + 1), '--force', '--max-states', '50')).toMatchObject({ code: 3 });
  });

  it('a reader that closes the pipe (pacta ... | head) ends pacta quietly: no EPIPE stack', async () => {
    const { spawn } = await import('node:child_process');
    const bin = join(import.meta.dirname, '..', 'cli', 'pacta.mjs');
    const child = spawn(process.execPath, [bin, 'list'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    expect(err.replace(/^pacta: running the TypeScript sources.*\n/m, '')).toBe('');
    expect(code).toBe(0);
  }, 60_000);
});

describe('interrupting a check', () => {
  it("check()'s stop option ends the search at a safe point: incomplete, reason interrupted", async () => {
    const { checkSync } = await import('../checker/check.ts');
    const { bundledSpecs } = await import('../specs/catalogue.ts');
    const spec = await bundledSpecs['two-phase']!.load();
    let asked = 0;
    const r = checkSync(spec, { params: { rms: 6 }, stop: () => ++asked > 2 });
    expect(r).toMatchObject({ result: 'incomplete', reason: 'interrupted' });
    expect(r.stats.distinctStates).toBeGreaterThan(0);
  });

  it('SIGTERM (or Ctrl-C) during a long multi-worker pacta check prints the partial summary, exit 130', async () => {
    const { spawn } = await import('node:child_process');
    const bin = join(import.meta.dirname, '..', 'cli', 'pacta.mjs');
    const child = spawn(process.execPath, [bin, 'check', 'two-phase', '--param', 'rms=10', '--workers', '2', '--force', '--no-liveness'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    setTimeout(() => child.kill('SIGTERM'), 6000);
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    expect(code, err).toBe(130);
    expect(out).toMatch(/two-phase rms=10 \(bfs\): interrupted: a partial result; no violation found so far/);
    expect(out).toMatch(/distinct states +│ +[\d,]+/);
    expect(out).toMatch(/stopped by: interrupted/);
    expect(err).toMatch(/SIGTERM: stopping at the next safe point/);
  }, 120_000);
});
