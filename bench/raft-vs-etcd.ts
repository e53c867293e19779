/**
 * pacta's Raft KV cluster and etcd, side by side on this machine, under the same closed-loop
 * workload: committed operations per second and client latency (p50, p99) at 1, 16, 64 and 255
 * concurrent clients, and the ratio pacta / etcd.
 *
 *   npx tsx bench/raft-vs-etcd.ts                 (10 s per point: about 3 minutes)
 *   npx tsx bench/raft-vs-etcd.ts --seconds 3     (shorter windows, noisier)
 *   npx tsx bench/raft-vs-etcd.ts --clients 1,64  (some points only)
 *   npx tsx bench/raft-vs-etcd.ts --no-etcd       (pacta only)
 *   npx tsx bench/raft-vs-etcd.ts --svg docs/img/raft-vs-etcd.svg --json /tmp/points.json
 *                                                 (also the plot, and the points as JSON)
 *
 * etcd: Debian's etcd-server (`/usr/bin/etcd`). When it is missing and this runs as root, the
 * script installs it with `apt-get install -y etcd-server`; otherwise (or when that fails) it says
 * how to install it and measures pacta alone. Three members on loopback ports with data
 * directories in a temporary folder, default durability (etcd fsyncs its WAL before it answers).
 * The client speaks etcd's v3 JSON gateway over HTTP/1.1 with keep-alive (`/v3/kv/put`,
 * `/v3/kv/range`, linearizable by default) from this Node process, one connection per client,
 * the clients spread over the three members (a follower forwards to the leader, as with the
 * etcd3 package's round-robin). Keys are 8 bytes (`k0000042`), values 256 bytes.
 *
 * pacta: the bundled `raft-kv` spec as a 3-node cluster in this process over tcp on loopback,
 * durable logs flushed with fdatasync (the cluster's default), ReadIndex reads (`reads=index`:
 * linearizable without a log entry, as etcd's reads), with etcd's default heartbeat and election
 * timing (100 ms, 1,000-2,000 ms; raft-kv's own are 50 ms and 150-300 ms). Clients are cluster
 * clients (they follow the leader hint). raft-kv's values are u32 in its schema: its entries carry 4-byte values, not 256
 * bytes, which favours pacta on bytes written and sent (stated beside the table).
 *
 * Histories. Every call of a point (warm-up included) is recorded — pacta's by its cluster, etcd's
 * by this script (a value names its write; a failed call is of unknown outcome) — and checked with
 * the checker `pacta lincheck --model kv` runs (per key), on pacta's cluster and on a real etcd.
 *
 * Method. Each point: a fresh cluster of each system, the clients start, 1 s of warm-up, then the
 * window; the figure is the calls answered in the window (pacta's `notLeader` answers excluded) over
 * its length, latencies those of the calls answered in it. Workload: half puts, half gets, keys
 * drawn uniformly from 1,000. Everything runs on the same 2-core machine, shared with other jobs:
 * the load average is printed with the table, and figures are noisy.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkLinearizability, kvModel } from '../checker/index.ts';
import type { KvInput, KvOutput, Operation } from '../checker/history/index.ts';
import { table } from '../cli/format.ts';
import { startCluster } from '../impl/index.ts';
import raftKv from '../specs/raft/raft-kv.ts';
import { kvHistory, leaderOf, type RaftOp, type RaftResult } from '../tests/executor-raft-workload.ts';
import { throughputAndP99Svg } from './raft-vs-etcd-plot.ts';

const argv = process.argv.slice(2);
function arg(name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}
const seconds = Number(arg('--seconds') ?? 10);
const clientCounts = (arg('--clients') ?? '1,16,64,255').split(',').map(Number);
const warmupMs = 1000;
const KEYS = 1000;
if (!(seconds > 0) || clientCounts.some((c) => !Number.isInteger(c) || c < 1 || c > 255)) {
  console.error('usage: npx tsx bench/raft-vs-etcd.ts [--seconds S] [--clients 1,16,64,255 (each 1..255)] [--no-etcd] [--svg PATH] [--json PATH]');
  process.exit(2);
}

interface Point {
  system: 'pacta' | 'etcd';
  clients: number;
  opsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** The whole client history (warm-up included) checked by pacta's linearizability checker (kv model, per key). */
  history: { operations: number; verdict: string };
}

/** The verdict of the checker `pacta lincheck --model kv` runs, on a recorded history. */
function lincheck(operations: readonly Operation<KvInput, KvOutput>[]): Point['history'] {
  const verdict = checkLinearizability({ operations }, kvModel, { timeLimitSeconds: 60 }).result;
  return { operations: operations.length, verdict };
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** A small deterministic generator per client (xorshift32), so both systems see the same calls. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Runs `clients` closed loops of `call` for warm-up + window; the window's answered calls and latencies. */
async function closedLoop(clients: number, call: (client: number, i: number, rand: () => number) => Promise<boolean>): Promise<{ ops: number; lat: number[]; errors: number; seconds: number }> {
  let measuring = false;
  let running = true;
  let ops = 0;
  let errors = 0;
  const lat: number[] = [];
  const loops = Array.from({ length: clients }, async (_, c) => {
    const rand = rng(0x9e3779b9 ^ (c + 1));
    for (let i = 0; running; i++) {
      const t0 = performance.now();
      let ok = false;
      try {
        ok = await call(c, i, rand);
      } catch {
        ok = false;
      }
      if (!measuring) continue;
      if (ok) {
        ops++;
        lat.push(performance.now() - t0);
      } else errors++;
    }
  });
  await sleep(warmupMs);
  measuring = true;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  running = false;
  await Promise.all(loops);
  return { ops, lat: lat.sort((a, b) => a - b), errors, seconds: elapsed };
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

// ---------------------------------------------------------------- pacta

async function pactaPoint(clients: number): Promise<Point> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pacta-vs-etcd-'));
  const cluster = await startCluster<RaftOp, RaftResult>(raftKv, {
    transport: 'tcp', nodes: 3, seed: 1, invokeTimeoutMs: 2000, dataDir,
    params: { maxTerm: 1_000_000, clients, keys: KEYS, reads: 'index' },
    // etcd's default timing (heartbeat 100 ms, election timeout 1,000 ms drawn up to 2,000 ms)
    // instead of raft-kv's 50 ms and 150-300 ms, so that a leader's flush slowed by the machine's
    // load does not start elections that etcd's timing would not.
    actionTimerMs: { appendEntries: [100, 100], timeout: [1000, 2000] },
  });
  try {
    await cluster.waitUntil(() => leaderOf(cluster) !== undefined, { timeoutMs: 10_000 });
    const r = await closedLoop(clients, async (c, i, rand) => {
      const key = Math.floor(rand() * KEYS);
      const op: RaftOp = rand() < 0.5 ? { kind: 'put', key, value: (c + 1) * 1_000_000 + i } : { kind: 'get', key };
      const res = await cluster.client(c).invoke(op);
      return res.kind !== 'notLeader';
    });
    const history = lincheck(kvHistory(cluster).operations as Operation<KvInput, KvOutput>[]);
    return { system: 'pacta', clients, opsPerSecond: r.ops / r.seconds, p50: percentile(r.lat, 0.5), p99: percentile(r.lat, 0.99), errors: r.errors, history };
  } finally {
    await cluster.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- etcd

/** The etcd binary, installing Debian's etcd-server when missing and possible; null (with the reason printed) when not. */
function findEtcd(): string | null {
  for (const p of ['/usr/bin/etcd', '/usr/local/bin/etcd']) if (existsSync(p)) return p;
  if (process.getuid?.() === 0) {
    console.log('etcd not found: installing Debian\'s etcd-server (apt-get install -y etcd-server) ...');
    const r = spawnSync('sh', ['-c', 'apt-get install -y etcd-server >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y etcd-server >/dev/null 2>&1)'], { stdio: 'inherit' });
    if (r.status === 0 && existsSync('/usr/bin/etcd')) return '/usr/bin/etcd';
  }
  console.log('etcd: SKIPPED: no etcd binary and it could not be installed (as root: apt-get install etcd-server); measuring pacta alone');
  return null;
}

interface EtcdCluster {
  readonly endpoints: readonly number[];
  stop(): Promise<void>;
}

async function startEtcd(bin: string, base: number): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-vs-pacta-'));
  const names = ['e0', 'e1', 'e2'];
  const peer = (k: number): number => base + 10 + k;
  const client = (k: number): number => base + k;
  const initial = names.map((n, k) => `${n}=http://127.0.0.1:${peer(k)}`).join(',');
  const procs: ChildProcess[] = names.map((name, k) => spawn(bin, [
    '--name', name, '--data-dir', join(dir, name),
    '--listen-client-urls', `http://127.0.0.1:${client(k)}`, '--advertise-client-urls', `http://127.0.0.1:${client(k)}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer(k)}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer(k)}`,
    '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', `bench-${base}`,
    '--log-level', 'error',
  ], { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  for (const p of procs) p.stderr!.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000)));
  const endpoints = names.map((_, k) => client(k));
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => new Promise<void>((done) => {
      if (p.exitCode !== null) return done();
      p.once('exit', () => done());
      p.kill('SIGTERM');
    })));
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready once a linearizable put succeeds through every member.
  const deadline = Date.now() + 20_000;
  const agent = new Agent({ keepAlive: true });
  for (const port of endpoints) {
    for (;;) {
      try {
        await etcdCall(agent, port, '/v3/kv/put', { key: b64('ready'), value: b64('1') });
        break;
      } catch (e) {
        if (Date.now() > deadline || procs.some((p) => p.exitCode !== null)) {
          agent.destroy();
          await stop();
          throw new Error(`etcd did not start: ${(e as Error).message}; ${stderr.trim()}`);
        }
        await sleep(100);
      }
    }
  }
  agent.destroy();
  return { endpoints, stop };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function etcdCall(agent: Agent, port: number, path: string, body: object): Promise<unknown> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) reject(new Error(`etcd ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
        else resolve(JSON.parse(text));
      });
      res.on('error', reject);
    });
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

const VALUE_BYTES = 256;

async function etcdPoint(bin: string, clients: number, base: number): Promise<Point> {
  const etcd = await startEtcd(bin, base);
  const agents = Array.from({ length: clients }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  // The client history, as pacta's cluster records its own: a value names its write (client.call,
  // padded to 256 bytes); a failed call's outcome is unknown (it may still take effect).
  const ops: Operation<KvInput, KvOutput>[] = [];
  try {
    const r = await closedLoop(clients, async (c, i, rand) => {
      const k = `k${String(Math.floor(rand() * KEYS)).padStart(7, '0')}`;
      const key = b64(k);
      const port = etcd.endpoints[c % etcd.endpoints.length]!;
      const put = rand() < 0.5;
      const name = `${c}.${i}`;
      const input: KvInput = put ? { f: 'put', key: k, value: name } : { f: 'get', key: k };
      const call = performance.now();
      const at = ops.length;
      ops.push({ id: at, process: c, input, output: undefined, call, return: Number.POSITIVE_INFINITY });
      let output: KvOutput;
      if (put) {
        await etcdCall(agents[c]!, port, '/v3/kv/put', { key, value: Buffer.from(name.padEnd(VALUE_BYTES, '.')).toString('base64') });
        output = null;
      } else {
        const res = await etcdCall(agents[c]!, port, '/v3/kv/range', { key }) as { kvs?: { value?: string }[] };
        const v = res.kvs?.[0]?.value;
        output = v === undefined ? '' : Buffer.from(v, 'base64').toString().replace(/\.+$/, '');
      }
      ops[at] = { ...ops[at]!, output, return: performance.now() };
      return true;
    });
    return { system: 'etcd', clients, opsPerSecond: r.ops / r.seconds, p50: percentile(r.lat, 0.5), p99: percentile(r.lat, 0.99), errors: r.errors, history: lincheck(ops) };
  } finally {
    for (const a of agents) a.destroy();
    await etcd.stop();
  }
}

// ---------------------------------------------------------------- run

const etcdBin = argv.includes('--no-etcd') ? (console.log('etcd: SKIPPED (--no-etcd)'), null) : findEtcd();
const loadBefore = loadavg()[0]!;
const points: Point[] = [];
for (const [k, clients] of clientCounts.entries()) {
  points.push(await pactaPoint(clients));
  if (etcdBin) points.push(await etcdPoint(etcdBin, clients, 23790 + 100 * k));
}
const loadAfter = loadavg()[0]!;

console.log(`pacta raft-kv (tcp, fdatasync, ReadIndex reads, 4-byte values) vs etcd ${etcdBin ? etcdVersion(etcdBin) : '(skipped)'} (HTTP gateway, fsync, 256-byte values), 3 members each, on loopback`);
console.log(`workload: closed loop, 50% put / 50% linearizable get, 1,000 keys; ${seconds} s window after ${warmupMs / 1000} s warm-up; load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (2 cores, shared)`);
const rows: string[][] = [];
for (const clients of clientCounts) {
  const p = points.find((x) => x.system === 'pacta' && x.clients === clients)!;
  const e = points.find((x) => x.system === 'etcd' && x.clients === clients);
  rows.push([
    String(clients), p.opsPerSecond.toFixed(0), p.p50.toFixed(2), p.p99.toFixed(2),
    e ? e.opsPerSecond.toFixed(0) : '-', e ? e.p50.toFixed(2) : '-', e ? e.p99.toFixed(2) : '-',
    e ? (p.opsPerSecond / e.opsPerSecond).toFixed(2) : '-', e ? (p.p99 / e.p99).toFixed(2) : '-',
    `${p.errors}/${e?.errors ?? '-'}`,
    `${p.history.verdict} (${p.history.operations})`, e ? `${e.history.verdict} (${e.history.operations})` : '-',
  ]);
}
console.log(table(
  ['clients', 'pacta ops/s', 'p50 ms', 'p99 ms', 'etcd ops/s', 'p50 ms', 'p99 ms', 'ops ratio', 'p99 ratio', 'errors p/e', 'pacta history', 'etcd history'],
  rows,
  ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
));

const svgPath = arg('--svg');
const jsonPath = arg('--json');
const version = etcdBin ? etcdVersion(etcdBin) : '';
if (svgPath) {
  const title = `pacta raft-kv vs etcd ${version}, 3 members each on loopback, fdatasync; load ${loadBefore.toFixed(1)}-${loadAfter.toFixed(1)} on 2 shared cores`;
  writeFileSync(svgPath, throughputAndP99Svg(points.map((p) => ({ ...p, system: p.system === 'etcd' ? `etcd ${version}` : 'pacta raft-kv' })), title));
  console.log(`plot: ${svgPath}`);
}
if (jsonPath) {
  writeFileSync(jsonPath, `${JSON.stringify({ loadBefore, loadAfter, seconds, etcd: version, points }, null, 2)}\n`);
  console.log(`points: ${jsonPath}`);
}

function etcdVersion(bin: string): string {
  const out = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /etcd Version: (\S+)/.exec(out)?.[1] ?? '';
}
