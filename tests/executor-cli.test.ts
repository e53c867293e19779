/**
 * `pacta run`: one process per node. Two-phase commit as four processes on udp, driven through
 * their stdin (RMs prepare, the TM commits, every RM commits); a primary-backup KV store as three
 * processes on tcp with a client process; Ctrl-C (SIGINT) stops each node cleanly (exit 0); a
 * restarted node recovers its durable fields from its log.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { memoryIO } from '../cli/io.ts';

const repo = resolve(import.meta.dirname, '..');
const pacta = join(repo, 'cli', 'pacta.mjs');
const key = '5a'.repeat(32);
const scratch = mkdtempSync(join(tmpdir(), 'pacta-run-'));
// The cluster key goes in a file (or the environment), never in argv.
const keyFile = join(scratch, 'cluster.key');
writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
const testdata = (name: string): string => join(repo, 'impl', 'net', 'testdata', name);
const tlsFlags = ['--tls-cert', testdata('member.crt'), '--tls-key', testdata('member.key'), '--tls-ca', testdata('cluster-ca.crt')];
const children: ChildProcessWithoutNullStreams[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Free loopback ports (bound to 0 and released). */
async function freePorts(n: number, kind: 'udp' | 'tcp'): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    if (kind === 'udp') {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      ports.push(s.address().port);
      await new Promise<void>((r) => s.close(() => r()));
    } else {
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      ports.push((s.address() as { port: number }).port);
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
  return ports;
}

interface Proc {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  /** Resolves once the output matches. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>;
  send: (line: string) => void;
  exit: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [pacta, 'run', ...args], { cwd: repo, stdio: 'pipe', env: { ...process.env, ...env } });
  children.push(child);
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of waiters.splice(0)) (w.re.test(out) ? w.resolve() : waiters.push(w));
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    waitFor: (re, timeoutMs = 120_000) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(out)) return resolve();
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${out}`)), timeoutMs);
        waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
      }),
    send: (line) => void child.stdin.write(`${line}\n`),
    exit,
  };
}

describe('pacta replay --executor', { timeout: 180_000 }, () => {
  it('replays a checked-in trace on the executor (exit 0) and reports a tampered one at its step (exit 1)', async () => {
    const file = join(repo, 'traces', 'examples', 'two-phase.volatile-rm.json');
    const ok = memoryIO(repo);
    expect(await main(['replay', file, '--executor'], ok)).toBe(0);
    expect(ok.stdout).toMatch(/replays on the executor: all 11 steps reach the trace's states \(48 node states equal byte for byte; 4 frames delivered, \d+ durable flushes, 1 recoveries from a log\)/);

    const trace = JSON.parse(readFileSync(file, 'utf8')) as { steps: { state: { nodes: { state: unknown }[] } }[] };
    trace.steps[6]!.state.nodes[1]!.state = 'prepared';
    const tampered = join(scratch, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(trace));
    const bad = memoryIO(repo);
    expect(await main(['replay', tampered, '--executor'], bad)).toBe(1);
    expect(bad.stdout).toMatch(/diverges on the executor at step 6 \(.*\), rm1: state differs\n  trace:    "prepared"\n  executor: "(working|aborted)"/);
  });
});

describe('pacta run', { timeout: 180_000 }, () => {
  it('prints the layout, and rejects bad input with exit 2', async () => {
    const io = memoryIO(repo);
    expect(await main(['run', 'two-phase', '--layout', '--param', 'rms=2'], io)).toBe(0);
    expect(io.stdout).toBe('0\ttm\ttm\n1\trm1\trm\n2\trm2\trm\n');
    const bad = memoryIO(repo);
    expect(await main(['run', 'two-phase', '--node', '0', '--peers', '127.0.0.1:1,127.0.0.1:2', '--key-file', keyFile, '--data', scratch], bad)).toBe(2);
    expect(bad.stderr).toMatch(/has 4 node\(s\): give 4 peer addresses, got 2/);
    const noKey = memoryIO(repo);
    const saved = process.env.PACTA_CLUSTER_KEY;
    delete process.env.PACTA_CLUSTER_KEY;
    try {
      expect(await main(['run', 'two-phase', '--node', '0', '--peers', '127.0.0.1:1'], noKey)).toBe(2);
    } finally {
      if (saved !== undefined) process.env.PACTA_CLUSTER_KEY = saved;
    }
    expect(noKey.stderr).toMatch(/--key-file/);
    // A key in argv works, with a warning (ps shows it); so does a key file others can read.
    const argvKey = memoryIO(repo);
    expect(await main(['run', 'two-phase', '--node', '0', '--peers', '127.0.0.1:1', '--key', key, '--data', scratch], argvKey)).toBe(2);
    expect(argvKey.stderr).toMatch(/warning: --key puts the cluster key in the process list/);
    const open = join(scratch, 'open.key');
    writeFileSync(open, key, { mode: 0o644 });
    const readable = memoryIO(repo);
    expect(await main(['run', 'two-phase', '--node', '0', '--peers', '127.0.0.1:1', '--key-file', open, '--data', scratch], readable)).toBe(2);
    expect(readable.stderr).toMatch(/can be read by other users/);
    const udpTls = memoryIO(repo);
    expect(await main(['run', 'two-phase', '--node', '0', '--peers', '127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4', '--key-file', keyFile, '--data', scratch, ...tlsFlags], udpTls)).toBe(2);
    expect(udpTls.stderr).toMatch(/need --transport tcp/);
  });

  it('runs two-phase commit as four udp processes driven through stdin, and stops each on SIGINT', async () => {
    const ports = await freePorts(4, 'udp');
    const peers = ports.map((p) => `127.0.0.1:${p}`).join(',');
    const nodes = [0, 1, 2, 3].map((i) => run(['two-phase', '--node', `${i}`, '--peers', peers, '--key-file', keyFile, '--data', join(scratch, `2pc-${i}`)]));
    await Promise.all(nodes.map((n, i) => n.waitFor(new RegExp(`\\(node ${i} of two-phase\\) on udp 127\\.0\\.0\\.1:${ports[i]}`))));
    for (const rm of nodes.slice(1)) rm.send('fire prepare');
    await nodes[0]!.waitFor(/"prepared":\[1,2,3\]/);
    nodes[0]!.send('fire commit');
    await nodes[0]!.waitFor(/fire commit: done/);
    for (const rm of nodes.slice(1)) await rm.waitFor(/message from tm -> "committed" \[flushed\]/);
    nodes[2]!.send('state');
    await nodes[2]!.waitFor(/^"committed"$/m);
    for (const n of nodes) n.child.kill('SIGINT');
    expect(await Promise.all(nodes.map((n) => n.exit))).toEqual([0, 0, 0, 0]);
    // The TM restarts from its log: committed.
    const tm = run(['two-phase', '--node', '0', '--peers', peers, '--key-file', keyFile, '--data', join(scratch, '2pc-0')]);
    await tm.waitFor(/tm recovered its durable fields from the log/);
    tm.send('state');
    await tm.waitFor(/\{"phase":"committed","prepared":\[1,2,3\]\}/);
    tm.send('quit');
    expect(await tm.exit).toBe(0);
  });

  it('runs a primary-backup KV store as three tcp processes over mutual TLS with a client process', async () => {
    const ports = await freePorts(5, 'tcp');
    const peers = ports.map((p) => `127.0.0.1:${p}`).join(',');
    const spec = join('tests', 'executor-primary-backup.ts');
    const member = ['--peers', peers, '--transport', 'tcp', ...tlsFlags];
    // The key from the environment, for a change.
    const replicas = [0, 1, 2].map((i) => run([spec, '--node', `${i}`, ...member, '--data', join(scratch, `kv-${i}`), '--quiet'], { PACTA_CLUSTER_KEY: key }));
    await Promise.all(replicas.map((n, i) => n.waitFor(new RegExp(`\\(node ${i} of primary-backup\\) on tcp`))));
    const client = run([spec, '--node', '3', ...member, '--key-file', keyFile, '--op', '{"f":"put","key":"a","value":"1"}', '--op', '{"f":"get","key":"a"}']);
    expect(await client.exit).toBe(0);
    const lines = client.output().trim().split('\n').map((l) => JSON.parse(l) as { result: unknown });
    expect(lines.map((l) => l.result)).toEqual([{ kind: 'ok' }, { kind: 'value', value: '1' }]);
    for (const n of replicas) n.child.kill('SIGINT');
    expect(await Promise.all(replicas.map((n) => n.exit))).toEqual([0, 0, 0]);
  });
});
