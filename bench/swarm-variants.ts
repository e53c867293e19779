/**
 * Swarm random search over the whole catalogue: every bundled broken variant checked with
 * `--mode random --cluster` on 4 worker processes (their own redis-server on a free loopback
 * port), with the params and options its `expose` declares. Prints, per variant, whether the
 * swarm found its violation, the minimized trace's length, the walks it took and the time.
 *
 *   npx tsx --conditions=pacta-source bench/swarm-variants.ts [--walks N] [--time S] [--only SPEC]
 *
 * Liveness variants are judged by bounded walks (a suspicion; see docs/checking.md), and the
 * swarm's PCT and swarm-mix jobs do not judge liveness at all (their schedules are not fair): such
 * a variant is found only by the uniform jobs. Under the time bound (default 60 s a variant) a
 * variant whose bug needs a long, precise schedule may not be found: the table says so.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { table } from '../cli/format.ts';
import { bundledSpecs } from '../specs/catalogue.ts';

const args = process.argv.slice(2);
const opt = (name: string, d: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : d);
const walks = opt('--walks', '100000');
const time = opt('--time', '60');
const only = args.includes('--only') ? opt('--only', '') : null;
const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'cli', 'pacta.mjs');

if (spawnSync('redis-server', ['--version']).status !== 0) {
  console.error('bench/swarm-variants.ts: redis-server is not installed (apt-get install redis-server)');
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
const tmp = mkdtempSync(join(tmpdir(), 'pacta-swarm-variants-'));
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));
const workers: ChildProcess[] = Array.from({ length: 4 }, () => spawn(process.execPath, [bin, 'worker', '--cluster', url, '--quiet'], { stdio: 'ignore' }));
await new Promise((r) => setTimeout(r, 2000));

function pacta(argv: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => done({ code, out, err }));
  });
}

const rows: string[][] = [];
let found = 0;
let total = 0;
try {
  for (const [name, entry] of Object.entries(bundledSpecs)) {
    if (only !== null && name !== only) continue;
    const protocol = await entry.load();
    for (const variant of Object.keys(protocol.variants ?? {})) {
      total++;
      const r = await pacta(['check', `${name}:${variant}`, '--mode', 'random', '--walks', walks, '--time', time, '--cluster', url, '--workers', '4', '--json', '--out', tmp]);
      let j: { result?: string; seconds?: number; walks?: number; violation?: { length: number | null; property: string } } = {};
      try {
        j = JSON.parse(r.out);
      } catch {
        j = { result: `exit ${r.code}: ${r.err.split('\n')[0]}` };
      }
      const caught = r.code === 1;
      if (caught) found++;
      rows.push([`${name}:${variant}`, caught ? 'found' : `NOT found (${j.result})`, j.violation?.length == null ? '' : String(j.violation.length), (j.walks ?? 0).toLocaleString('en-US'), (j.seconds ?? 0).toFixed(1)]);
      console.error(rows[rows.length - 1]!.join('  '));
    }
  }
} finally {
  for (const w of workers) w.kill('SIGTERM');
  server.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
console.log(table(['variant', 'swarm (4 workers)', 'trace steps (minimized)', 'walks', 'seconds'], rows));
console.log(`${found} of ${total} variants found`);
