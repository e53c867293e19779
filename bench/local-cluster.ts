/**
 * A cluster-mode rig for the benchmarks on one machine: its own redis-server (loopback, a free
 * port, no persistence, a temporary folder), worker processes on it, and `pacta` as a child
 * process. Exits with code 2 and how to install it when redis-server is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const bin = join(resolve(import.meta.dirname, '..'), 'cli', 'pacta.mjs');

export interface LocalCluster {
  /** The Redis URL the workers serve (pass it as `--cluster`). */
  readonly url: string;
  /** A temporary folder, removed by `stop` (Redis's, and the callers' for traces). */
  readonly folder: string;
  /** Runs `pacta ...argv` to its end. */
  pacta(argv: string[]): Promise<{ code: number | null; out: string; err: string }>;
  /** Stops the workers and Redis, removes the folder. */
  stop(): void;
}

/** Starts Redis and `workers` worker processes; `bench` names the caller in the error when Redis is missing. */
export async function startLocalCluster(bench: string, workers: number): Promise<LocalCluster> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    console.error(`${bench}: redis-server is not installed (apt-get install redis-server)`);
    process.exit(2);
  }
  const port = await new Promise<number>((done) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => done(p));
    });
  });
  const url = `redis://127.0.0.1:${port}`;
  const tmp = mkdtempSync(join(tmpdir(), 'pacta-bench-cluster-'));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  const children: ChildProcess[] = Array.from({ length: workers }, () => spawn(process.execPath, [bin, 'worker', '--cluster', url, '--quiet'], { stdio: 'ignore' }));
  await new Promise((r) => setTimeout(r, 2000));
  return {
    url,
    folder: tmp,
    pacta: (argv) =>
      new Promise((done) => {
        const p = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        p.on('close', (code) => done({ code, out, err }));
      }),
    stop: () => {
      for (const w of children) w.kill('SIGTERM');
      server.kill('SIGTERM');
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
