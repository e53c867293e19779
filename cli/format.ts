/** Terminal formatting shared by commands: tables, numbers, the live progress line. */
import { createRequire } from 'node:module';
import type TableType from 'cli-table3';
import type { Progress } from '../checker/options.ts';
import type { CliIO } from './io.ts';
import type { ExposeOptions, Exposure } from '../specs/core/index.ts';

/** `1234567` → `1,234,567`. By hand: toLocaleString's first call loads ICU data, tens of ms of start-up. */
export function num(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n)).replace(/\B(?=(\d{3})+$)/g, ',') : String(n);
}

export function seconds(s: number): string {
  return s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
}

let tableClass: typeof TableType | undefined;
/** cli-table3 (CommonJS, with its own dependencies) loads with the first table: `pacta list` draws none. */
function Table(options: ConstructorParameters<typeof TableType>[0]): InstanceType<typeof TableType> {
  tableClass ??= createRequire(import.meta.url)('cli-table3') as typeof TableType;
  return new tableClass(options);
}

/** Box drawing without a rule between every row: tables stay compact. */
const compact = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

/** A two-column table of label → value. */
export function keyValueTable(rows: [string, string][]): string {
  const table = Table({ chars: compact, style: { head: [], border: [] }, colAligns: ['left', 'right'] });
  for (const r of rows) table.push(r);
  return table.toString();
}

/** A table with a header row. */
export function table(head: string[], rows: string[][], align?: ('left' | 'right')[]): string {
  const t = Table({ head, chars: compact, style: { head: [], border: [] }, ...(align ? { colAligns: align } : {}) });
  for (const r of rows) t.push(r);
  return t.toString();
}

/**
 * Progress of a long run, on stderr. On a terminal: one live line, redrawn (unless `live` is
 * false, as under --json). Off a terminal (a CI log, a pipe, `CI` set): one plain line every
 * `every` seconds of the run (default 10; 0: none), like TLC's periodic reports, so a log shows
 * that a run is alive and how fast its state space grows.
 */
export function progressLine(io: CliIO, { live = true, every = 10 }: { live?: boolean; every?: number } = {}): { update(p: Progress): void; clear(): void } {
  let drawn = false;
  let next = every;
  return {
    update(p) {
      if (!io.interactive) {
        if (every <= 0 || p.seconds < next) return;
        next = (Math.floor(p.seconds / every) + 1) * every;
        io.err(`pacta: ${p.seconds.toFixed(0)} s · ${p.phase === 'trace' ? 'the violation\'s trace, on one thread: ' : ''}${num(p.distinctStates)} distinct states · ${num(p.statesGenerated)} generated · ${num(p.statesPerSecond)}/s · depth ${p.depth} · queue ${num(p.queue)}\n`);
        return;
      }
      if (!live) return;
      drawn = true;
      io.err(
        `\r\x1b[2K${p.phase === 'trace' ? 'violation found; its trace, on one thread: ' : ''}${num(p.distinctStates)} states · ${num(p.statesPerSecond)}/s · depth ${p.depth} · queue ${num(p.queue)} · ${p.seconds.toFixed(0)} s`,
      );
    },
    clear() {
      if (drawn) io.err('\r\x1b[2K');
      drawn = false;
    },
  };
}

/** The CLI flags that stand for a variant's exposure (`expose: { params, options }`). */
export function exposureFlags(exposure: Exposure | undefined): string[] {
  if (!exposure) return [];
  const flags: string[] = [];
  for (const [k, v] of Object.entries(exposure.params ?? {})) flags.push(`--param ${k}=${String(v)}`);
  const names: Record<keyof ExposeOptions, string> = {
    mode: '--mode', network: '--network', drop: '--drop', dup: '--dup', crashes: '--crashes', maxTime: '--max-time',
    epsilon: '--epsilon', trueTimeEpsilon: '--epsilon', clockError: '--clock-error', maxInFlight: '--max-in-flight', symmetry: '--symmetry',
    deadlock: '--deadlock', fairDelivery: '--fair-delivery', maxDepth: '--max-depth', seed: '--seed', walks: '--walks', diskFaults: '--disk-faults', clientRestarts: '--client-restarts',
    maxMessageBytes: '--max-message-bytes',
  };
  for (const [k, v] of Object.entries(exposure.options ?? {}) as [keyof ExposeOptions, unknown][]) {
    // A variant that turns off the spec's default symmetry (raft:election-storm, a liveness lasso).
    if (k === 'symmetry' && v === false) flags.push('--no-symmetry');
    if (v === false || v === undefined) continue;
    flags.push(v === true ? names[k] : `${names[k]} ${String(v)}`);
  }
  return flags;
}
