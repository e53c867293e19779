/**
 * Parallel BFS on worker threads. Level by level, the coordinator cuts the frontier into pieces
 * and hands them to `workers` worker threads, which expand them against one visited set in
 * shared memory (atomic inserts); the new states they return become the next level. Counts
 * equal a single-threaded run's.
 *
 * Workers keep no parent links (they would have to be shared and grown too): when a worker
 * finds a violation, deadlock or error at depth d, the single-threaded BFS re-runs to depth d,
 * which finds the same shortest counterexample as a run on one thread and builds its trace.
 * That costs at most the part of the search before the violation, which BFS finds early.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { SearchResult } from './exhaustive.ts';
import { defaultTuning, exhaustive } from './exhaustive.ts';
import { Model } from './model.ts';
import { LevelSpill, type LevelChunk } from './level-spill.ts';
import { SharedStore } from './shared-store.ts';
import { Expander, startWorker, type WorkerEvent, type WorkerReply, type WorkerTask } from './parallel-worker.ts';
import type { LimitReason } from './search.ts';

/** How many workers `--workers` defaults to: the cores available. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}


/**
 * A search still running after this long is worth the workers' start-up (each loads the spec
 * and warms up, some hundreds of milliseconds); one that ends sooner never starts them. The
 * search hands off at its next level and goes on on this thread until they are ready.
 */
const SPAWN_AFTER_MS = 1000;
/** A level this large is handed off whatever the time. */
const SPAWN_LEVEL_STATES = 1 << 18;

/**
 * BFS on `workers` threads. The search starts on this thread and hands off to the workers at the
 * first level of `spawnLevelStates` states or that starts `spawnAfterMs` into the search (tests
 * pass 0 states to use the workers from the start).
 */
export async function parallelBfs(
  model: Model,
  specModule: string,
  workers: number,
  spawnLevelStates = SPAWN_LEVEL_STATES,
  spawnAfterMs = SPAWN_AFTER_MS,
): Promise<SearchResult> {
  const o = model.options;
  const alone = exhaustive(model, { ...defaultTuning, handOffLevelStates: spawnLevelStates, handOffAfterMs: spawnAfterMs });
  if (alone.outcome.kind !== 'handoff') return alone;
  // The same search goes on: its goals, counters, clock and progress reports.
  const search = alone.search!;
  const visited = alone.outcome.store;
  let slots = 1 << 16;
  while (visited.size > slots * 0.3) slots *= 2;
  let store = SharedStore.create(slots);
  visited.forEach((hi, lo) => store.insert(hi, lo));
  // Levels past the frontier's memory budget go to disk (see level-spill.ts).
  const spill = new LevelSpill(o.frontierMemoryBytes);
  let level: LevelChunk[] = alone.outcome.level;
  for (const chunk of level) spill.hold(chunk, level);

  // The workers start now, in the background (loading the spec takes a moment); until they are
  // ready the coordinator expands on its own.
  const { onProgress: _ignored, stop: _asked, ...options } = o;
  const threads: WorkerLink[] = [];
  const local = new Expander(model, store);
  // Holders, not `let`s: callbacks set them, which flow analysis cannot see.
  const boot: { pool: WorkerLink[] | null } = { pool: null };
  let poolStore = store;
  const spawn = () => {
    if (threads.length > 0) return;
    poolStore = store;
    // The coordinator only hands out work once they are up: expanding on this thread too was
    // slower (Test1 22.7 s against 13.0 s, two-phase rms=9 49 s against 45 s: this thread's
    // heap holds the search's prefix and every level, and its collector pays for them).
    for (let k = 0; k < workers; k++) threads.push(new WorkerLink(startWorker()));
    Promise.all(
      threads.map((w) => w.send({ kind: 'init', specModule, variant: model.protocol.variantName ?? null, options, table: store.tableBuffer, counters: store.counterBuffer })),
    ).then(
      () => {
        boot.pool = threads;
      },
      () => {
        // A worker that cannot start leaves the coordinator to do the work alone.
      },
    );
  };

  let depth = alone.outcome.depth;
  type Stop = { kind: 'event'; event: WorkerEvent; depth: number } | { kind: 'limit'; reason: LimitReason };
  // A holder, not a `let`: workers' callbacks set it, which flow analysis cannot see.
  const halt: { stop: Stop | null } = { stop: null };
  let nextId = 0;
  try {
    while (level.length > 0 && halt.stop === null) {
      if (!search.expands(depth)) {
        halt.stop = { kind: 'limit', reason: 'max-depth' };
        break;
      }
      spawn();
      const next: LevelChunk[] = [];
      const queue: { chunk: LevelChunk; offset: number }[] = level.map((chunk) => ({ chunk, offset: 0 }));
      level = [];
      while (queue.length > 0 && halt.stop === null) {
        // Room for this round: grow between rounds, while no worker is inserting.
        if (store.size > store.limit / 2) {
          let slots = store.slots * 4; // fourfold: each grow is a serial pass over the table while workers wait
          while (store.size > slots * 0.3) slots *= 2;
          store = store.grow(slots);
          local.store = store;
        }
        const pool = boot.pool;
        if (pool && poolStore !== store) {
          await Promise.all(pool.map((w) => w.send({ kind: 'table', table: store.tableBuffer, counters: store.counterBuffer })));
          poolStore = store;
        }
        const round = queue.splice(0, queue.length);
        let cursor = 0;
        let roundBytes = 0;
        for (const item of round) roundBytes += item.chunk.length - item.offset;
        const pieceBytes = Math.min(PIECE_BYTES_MAX, Math.max(PIECE_BYTES_MIN, Math.ceil(roundBytes / (workers * PIECES_PER_WORKER))));

        /** The next piece of the round as a task, or null when the round is over for now. */
        const take = (): WorkerTask | null => {
          if (cursor >= round.length || halt.stop !== null || store.full) return null;
          const item = round[cursor]!;
          const whole = spill.load(item.chunk);
          const end = pieceEnd(whole, item.offset, item.chunk.length, pieceBytes);
          // A whole chunk's buffer moves to the worker (no copy) and comes back if unfinished;
          // a piece of a larger one is copied out, so that every worker gets a share of it.
          let task: WorkerTask;
          if (item.offset === 0 && end === item.chunk.length) {
            task = { kind: 'task', id: nextId++, buffer: whole, offset: 0, length: end, depth };
          } else {
            task = { kind: 'task', id: nextId++, buffer: whole.slice(item.offset, end), offset: 0, length: end - item.offset, depth };
            item.offset = end;
          }
          if (end === item.chunk.length) {
            cursor++;
            spill.release(item.chunk);
          }
          return task;
        };

        /** Takes in what a task found: the next level's states, goals, a stop, the unfinished rest. */
        const settle = (task: WorkerTask, reply: WorkerReply) => {
          search.generated += reply.generated;
          for (const chunk of reply.chunks) {
            next.push(chunk);
            spill.hold(chunk, next);
          }
          for (const g of reply.goals) search.reached(g, depth + 1);
          if (reply.event && halt.stop === null) halt.stop = { kind: 'event', event: reply.event, depth: depth + 1 };
          if (reply.rest) {
            const chunk = { buffer: reply.rest, length: task.length, spillAt: 0 };
            spill.hold(chunk, []);
            queue.push({ chunk, offset: reply.processed });
          }
          const now = performance.now();
          const limit = search.limit(store.size, now);
          if (limit !== null && halt.stop === null) halt.stop = { kind: 'limit', reason: limit };
          search.progress(store.size, depth + 1, queue.length, now);
        };

        // Until the pool is up the coordinator works alone, and steps out of the round as soon
        // as the pool can join.
        const runLocal = async () => {
          if (pool !== null) return;
          for (let task = take(); task !== null; task = boot.pool !== null ? null : take()) {
            settle(task, local.expand(task));
            await new Promise((resolve) => setImmediate(resolve)); // let the workers' start-up replies in
          }
        };
        // Each worker has two tasks in flight, so that it never waits for the coordinator.
        const runThread = async (w: WorkerLink) => {
          const inFlight: Promise<void>[] = [];
          for (let task = take(); task !== null; task = take()) {
            const sent = task;
            const done = w.send(sent, [sent.buffer]).then((reply) => settle(sent, reply as WorkerReply));
            // A dead worker fails both tasks in hand: the first is awaited and thrown, the second
            // must not surface as an unhandled rejection (which would end the process raw).
            done.catch(() => {});
            inFlight.push(done);
            if (inFlight.length >= 2) await inFlight.shift();
          }
          await Promise.all(inFlight);
        };
        await Promise.all([runLocal(), ...(pool ?? []).map(runThread)]);
        // Items a full table or a stop left unstarted go back to the queue.
        while (cursor < round.length) queue.push(round[cursor++]!);
      }
      level = next;
      if (next.length > 0) depth++;
    }
  } finally {
    spill.close();
    await Promise.all(threads.map((w) => w.worker.terminate()));
  }

  const stop = halt.stop;
  if (stop?.kind === 'event') {
    // Rebuild a shortest trace single-threaded, to the depth where the workers saw it. Its
    // progress and its time go on from the workers' (a run is one run to its user), marked as
    // this phase; the time limit is what is left of the run's.
    const before = (performance.now() - search.started) / 1000;
    const report = o.onProgress;
    const rerun = new Model(model.protocol, {
      ...o,
      maxDepth: stop.depth,
      timeSeconds: Math.max(1, o.timeSeconds - before),
      onProgress: report && ((p) => report({ ...p, seconds: p.seconds + before, phase: 'trace' })),
    });
    const result = exhaustive(rerun);
    result.stats.seconds += before;
    return result;
  }
  const distinct = store.size;
  search.depth = depth + 1;
  search.spilledBytes += spill.spilledBytes;
  return {
    outcome: stop ? { kind: 'limit', reason: stop.reason } : { kind: 'done' },
    goals: search.goals,
    // The shared table keeps 62 of the 64 fingerprint bits.
    stats: search.stats(distinct, distinct ? store.table.byteLength / distinct : 0, { keptBits: 62 }),
  };
}

/**
 * Work is handed out in pieces of about a level's bytes / (workers x PIECES_PER_WORKER), so that
 * a level of a few chunks still keeps every worker busy to its end (a worker that gets the last
 * megabyte of a level alone leaves the others waiting at the level's barrier).
 */
const PIECES_PER_WORKER = 16;
const PIECE_BYTES_MIN = 16 << 10;
const PIECE_BYTES_MAX = 1 << 20;

/** Where a piece of about `bytes` bytes from `offset` ends: at an entry boundary, at most `length`. */
function pieceEnd(buffer: ArrayBuffer, offset: number, length: number, bytes: number): number {
  if (length - offset <= bytes + (bytes >> 1)) return length;
  const view = new DataView(buffer);
  let at = offset;
  while (at < length && at - offset < bytes) at += 4 + view.getUint32(at, true);
  return length - at < bytes >> 1 ? length : at;
}

/** A worker thread's replies, matched to its requests in order (it answers each in turn). */
class WorkerLink {
  private readonly waiting: { resolve: (m: unknown) => void; reject: (e: Error) => void }[] = [];

  constructor(readonly worker: Worker) {
    worker.on('message', (m: unknown) => this.waiting.shift()?.resolve(m));
    worker.on('error', (e: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
    worker.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`a worker thread exited (code ${code}) with a task in hand`));
    });
  }

  send(message: unknown, transfer: ArrayBuffer[] = []): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(message, transfer);
    });
  }
}
