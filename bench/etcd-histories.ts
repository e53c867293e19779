/**
 * Generated etcd-style Jepsen logs (the format of Porcupine's jepsen/etcd_*.log) of any length,
 * for the linearizability benchmark at scale and the issue-25 audit: concurrent processes run
 * read, write and cas on one register held by a simulated database that applies each operation
 * at a moment inside its interval, so the log is linearizable. A share of the writes and cas
 * time out (`:info`, outcome unknown, applied or not), and their process is replaced by a new
 * one, as Jepsen does. Everything comes from one seed.
 *
 *   npx tsx bench/etcd-histories.ts OPERATIONS [OUT] [--seed N] [--processes N] [--info RATE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** Options of {@link generateEtcdLog}. */
export interface EtcdLogOptions {
  readonly operations: number;
  readonly seed?: number;
  /** Processes running at once (default 10). */
  readonly processes?: number;
  /** Share of writes and cas that end `:info` (default 0.002). */
  readonly infoRate?: number;
}

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Generates the log's lines (see the module comment). */
export function generateEtcdLog(options: EtcdLogOptions): string {
  const random = rng(options.seed ?? 1);
  const pick = (n: number): number => Math.floor(random() * n);
  const infoRate = options.infoRate ?? 0.002;
  const procs = Array.from({ length: options.processes ?? 10 }, (_, i) => i);
  let nextProcess = procs.length;
  // An operation is applied to the register when invoked (a moment inside its interval); its
  // completion line comes later, when its process is picked again.
  const pending = new Map<number, { f: string; shown: string; type: string }>();
  let value: number | null = null;
  let started = 0;
  const lines: string[] = [];
  const line = (p: number, type: string, f: string, shown: string): void => {
    lines.push(`INFO  jepsen.util - ${p}\t${type}\t:${f}\t${shown}`);
  };
  while (started < options.operations || pending.size > 0) {
    const slot = pick(procs.length);
    const p = procs[slot]!;
    const done = pending.get(p);
    if (done) {
      pending.delete(p);
      line(p, done.type, done.f, done.shown);
      if (done.type === ':info') procs[slot] = nextProcess++;
      continue;
    }
    if (started >= options.operations) continue;
    started++;
    const f = ['read', 'write', 'cas'][pick(3)]!;
    let op: { f: string; shown: string; type: string };
    if (f === 'read') {
      line(p, ':invoke', 'read', 'nil');
      op = { f, shown: value === null ? 'nil' : String(value), type: ':ok' };
    } else if (f === 'write') {
      const v = pick(5);
      line(p, ':invoke', 'write', String(v));
      value = v;
      op = { f, shown: String(v), type: ':ok' };
    } else {
      const [from, to] = [pick(5), pick(5)];
      const shown = `[${from} ${to}]`;
      line(p, ':invoke', 'cas', shown);
      const ok = value === from;
      if (ok) value = to;
      op = { f, shown, type: ok ? ':ok' : ':fail' };
    }
    if (f !== 'read' && random() < infoRate) op = { ...op, type: ':info' };
    pending.set(p, op);
  }
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { seed: { type: 'string', default: '1' }, processes: { type: 'string', default: '10' }, info: { type: 'string', default: '0.002' } },
  });
  const text = generateEtcdLog({ operations: Number(positionals[0]), seed: Number(values.seed), processes: Number(values.processes), infoRate: Number(values.info) });
  if (positionals[1]) writeFileSync(positionals[1], text);
  else process.stdout.write(text);
}
