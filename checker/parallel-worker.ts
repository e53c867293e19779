/**
 * The expansion step of parallel BFS, and the worker-thread loop that runs it: expands the states of a task (packed, length-prefixed), inserts
 * successors into the shared visited set, checks properties on the new ones, and returns them
 * packed for the next level. It stops early, reporting how far it got, when the shared table
 * is too full (the coordinator grows it and hands back the rest).
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { isProtocol, type Protocol } from '../specs/core/index.ts';
import { importModule } from './import-module.ts';
import { Model } from './model.ts';
import type { Options } from './options.ts';
import { LevelWriter, type LevelChunk } from './level-spill.ts';
import { RecentSet } from './recent-set.ts';
import { SharedStore } from './shared-store.ts';
import { HandlerError, type WorldState } from './world.ts';
import { Search } from './search.ts';
import { randomWalks } from './random.ts';
import type { WalksReply } from './parallel-random.ts';

export interface WorkerInit {
  kind: 'init';
  specModule: string;
  variant: string | null;
  options: Omit<Options, 'onProgress'>;
  table?: SharedArrayBuffer;
  counters?: SharedArrayBuffer;
  /** Random mode: no shared table, the worker runs walks. */
  walksOnly?: boolean;
}

export interface WorkerTask {
  kind: 'task';
  id: number;
  buffer: ArrayBuffer;
  /** Entries are in `buffer` from `offset` to `length`. */
  offset: number;
  length: number;
  /** BFS depth of the states in the task (0 = initial). */
  depth: number;
}

export interface WorkerTable {
  kind: 'table';
  table: SharedArrayBuffer;
  counters: SharedArrayBuffer;
}

export type WorkerEvent =
  | { kind: 'violation'; property: string }
  | { kind: 'deadlock' }
  | { kind: 'error'; message: string };

export interface WorkerReply {
  kind: 'done';
  id: number;
  /** New states for the next level: chunks of [u32 length][bytes] entries. */
  chunks: LevelChunk[];
  /** Byte offset in the task up to which states were fully expanded (= length when done). */
  processed: number;
  /** The task's buffer, handed back when the task stopped before its end. */
  rest: ArrayBuffer | null;
  generated: number;
  goals: number[];
  event: WorkerEvent | null;
}


async function load(specModule: string, variant: string | null): Promise<Protocol> {
  const spec = (await importModule(specModule)).default as Protocol;
  if (!isProtocol(spec)) throw new Error(`worker: ${specModule} does not export a protocol`);
  return variant ? spec.variant(variant) : spec;
}

/**
 * Expands tasks against a shared visited set. Workers run one each; the coordinator runs one
 * too while the workers start, so small searches finish before any worker is needed.
 */
export class Expander {
  /** Goals this expander has already reported (each is reported once). */
  /** Goals and invariants on each new state (the explorers' shared core). */
  private readonly search: Search;
  /** Goals this worker has reported to the coordinator. */
  private readonly reported: boolean[];
  /** Fingerprints this expander saw visited lately (see RecentSet). */
  private readonly recent = new RecentSet();

  constructor(
    readonly model: Model,
    public store: SharedStore,
  ) {
    this.search = new Search(model);
    this.reported = model.goals.map(() => false);
  }

  expand(task: WorkerTask): WorkerReply {
    const model = this.model;
    const store = this.store;
    const world = model.world;
    const fp = model.fp;
    const recent = this.recent;
    const view = new DataView(task.buffer);
    const bytes = new Uint8Array(task.buffer);
    // About what the task will return: each state has a few new successors, most levels.
    const out = new LevelWriter(Math.max(64 << 10, 2 * (task.length - task.offset)));
    let generated = 0;
    const goals: number[] = [];
    const search = this.search;
    let event: WorkerEvent | null = null;

    const visit = (next: WorldState): boolean => {
      generated++;
      model.fingerprint(next);
      if (!store.insert(fp[0]!, fp[1]!)) return false;
      recent.add(fp[0]!, fp[1]!);
      const left = search.goalsLeft;
      const bad = search.examine(next, task.depth + 1);
      if (search.goalsLeft < left) {
        for (let i = 0; i < search.goals.length; i++) {
          if (search.goals[i]!.reached && !this.reported[i]) {
            this.reported[i] = true;
            goals.push(i);
          }
        }
      }
      if (bad) {
        event = { kind: 'violation', property: bad.name };
        return true;
      }
      out.push(model.pack(next));
      return false;
    };

    // Successors already visited are recognized from their fingerprint before they are built.
    const seen = model.symmetry
      ? undefined
      : (hi: number, lo: number): boolean => {
          if (!recent.visitedIn(store, hi, lo)) return false;
          generated++;
          return true;
        };

    let at = task.offset;
    try {
      while (at < task.length && event === null) {
        if (store.full) break;
        const len = view.getUint32(at, true);
        const state = world.decode(bytes.subarray(at + 4, at + 4 + len), true);
        const enabled = world.successors(state, visit, seen);
        if (event === null && enabled === 0 && model.options.deadlock) event = { kind: 'deadlock' };
        at += 4 + len;
      }
    } catch (e) {
      if (!(e instanceof HandlerError)) throw e;
      event = { kind: 'error', message: e.message };
    }
    const chunks = out.finish();
    const rest = at < task.length ? task.buffer : null;
    return { kind: 'done', id: task.id, chunks, processed: at, rest, generated, goals, event };
  }
}

/**
 * Starts a worker thread of a parallel run (BFS or random walks) on this module. Compiled, the
 * thread runs this very file; from the TypeScript sources it starts at parallel-worker.mjs,
 * which registers tsx first (a worker thread does not inherit its parent's loader). The
 * workerData mark keeps the message loop below off threads that import this module for
 * another reason (a test runner's worker, say).
 */
export function startWorker(): Worker {
  const entry = import.meta.url.endsWith('.ts') ? new URL('./parallel-worker.mjs', import.meta.url) : new URL(import.meta.url);
  return new Worker(entry, { workerData: { pactaWorker: true } });
}

let expander: Expander;

let walksModel: Model | null = null;

if ((workerData as { pactaWorker?: boolean } | null)?.pactaWorker) parentPort!.on('message', async (m: WorkerInit | WorkerTask | WorkerTable | { kind: 'walks' }) => {
  if (m.kind === 'init') {
    const spec = await load(m.specModule, m.variant);
    const model = new Model(spec, m.options as Options);
    if (m.walksOnly) walksModel = model;
    else expander = new Expander(model, new SharedStore(m.table!, m.counters!));
    parentPort!.postMessage({ kind: 'ready' });
  } else if (m.kind === 'walks') {
    // Parallel random mode: this worker's share of the walks (see parallel-random.ts).
    const run = randomWalks(walksModel!);
    const o = run.outcome;
    const reply: WalksReply = {
      kind: 'walks-done',
      outcome: { kind: o.kind, ...('walk' in o ? { walk: o.walk } : {}), ...(o.kind === 'limit' ? { reason: o.reason } : {}) },
      walks: run.stats.walks ?? 0,
      steps: run.stats.steps ?? 0,
      distinct: run.stats.distinctStates,
      deepest: run.stats.depth,
      goals: run.goals,
    };
    parentPort!.postMessage(reply);
  } else if (m.kind === 'table') {
    expander.store = new SharedStore(m.table, m.counters);
    parentPort!.postMessage({ kind: 'ready' });
  } else {
    const reply = expander.expand(m);
    const transfer = reply.chunks.map((c) => c.buffer!); // fresh chunks are in memory
    if (reply.rest) transfer.push(reply.rest);
    parentPort!.postMessage(reply, transfer);
  }
});
