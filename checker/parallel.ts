/**
 * Parallel BFS on worker threads. Level by level, the coordinator hands chunks of the frontier
 * to workers; they expand them against one visited set in shared memory (atomic inserts) and
 * return the new states, which become the next level. Counts equal a single-threaded run's.
 *
 * Workers keep no parent links (they would have to be shared and grown too): when a worker
 * finds a violation, deadlock or error at depth d, the single-threaded BFS re-runs to depth d,
 * which finds a shortest counterexample and builds its trace. That costs at most the part of
 * the search before the violation, which BFS finds early.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { SearchResult } from './exhaustive.ts';
import { defaultTuning, exhaustive } from './exhaustive.ts';
import { Model } from './model.ts';
import { LevelSpill, type LevelChunk } from './level-spill.ts';
import { SharedStore } from './shared-store.ts';
import { Expander, startWorker, type WorkerEvent, type WorkerReply, type WorkerTask } from './parallel-worker.ts';

/** How many workers `--workers` defaults to: the cores available. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}


/**
 * A level this large is worth starting the workers for; smaller searches stay on one thread,
 * whose collapsed frontier is faster than a worker's packed one (two-phase rms 8, whose widest
 * level has 244,342 states, runs on one thread).
 */
const SPAWN_LEVEL_STATES = 1 << 18;

/**
 * BFS on `workers` threads. The search starts on this thread and hands off to the workers at the
 * first level of `spawnLevelStates` states (tests pass 0 to use the workers from the start).
 */
export async function parallelBfs(model: Model, specModule: string, workers: number, spawnLevelStates = SPAWN_LEVEL_STATES): Promise<SearchResult> {
  const o = model.options;
  const alone = exhaustive(model, { ...defaultTuning, handOffLevelStates: spawnLevelStates });
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

  // The workers start at once (the level is large) and in the background (loading TypeScript
  // and the spec takes a moment); until they are ready the coordinator expands on its own.
  const { onProgress: _ignored, ...options } = o;
  const threads: Worker[] = [];
  const local = new Expander(model, store);
  // Holders, not `let`s: callbacks set them, which flow analysis cannot see.
  const boot: { pool: Worker[] | null } = { pool: null };
  let poolStore = store;
  const spawn = () => {
    if (threads.length > 0) return;
    poolStore = store;
    for (let k = 0; k < workers; k++) threads.push(startWorker());
    Promise.all(
      threads.map((w) => request(w, { kind: 'init', specModule, variant: model.protocol.variantName ?? null, options, table: store.tableBuffer, counters: store.counterBuffer })),
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
  type Stop = { kind: 'event'; event: WorkerEvent; depth: number } | { kind: 'limit'; reason: 'max-states' | 'max-depth' | 'time' };
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
        const workersNow = boot.pool;
        if (workersNow && poolStore !== store) {
          await Promise.all(workersNow.map((w) => request(w, { kind: 'table', table: store.tableBuffer, counters: store.counterBuffer })));
          poolStore = store;
        }
        const round = queue.splice(0, queue.length);
        let cursor = 0;
        const runWorker = async (w: Worker | null) => {
          while (cursor < round.length && halt.stop === null && !store.full) {
            // The coordinator steps aside as soon as the workers are up.
            if (w === null && boot.pool !== null) break;
            const item = round[cursor++]!;
            // The chunk's buffer moves to the worker (no copy) and comes back if unfinished.
            const buffer = spill.load(item.chunk);
            spill.release(item.chunk);
            const task: WorkerTask = { kind: 'task', id: nextId++, buffer, offset: item.offset, length: item.chunk.length, depth };
            let reply: WorkerReply;
            if (w === null) {
              reply = local.expand(task);
              await new Promise((resolve) => setImmediate(resolve)); // let worker start-up messages in
            } else {
              reply = (await request(w, task, [buffer])) as WorkerReply;
            }
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
          }
          // Items a full table left unstarted go back to the queue.
          while (store.full && cursor < round.length) queue.push(round[cursor++]!);
        };
        await Promise.all(workersNow ? workersNow.map(runWorker) : [runWorker(null)]);
        while (cursor < round.length) queue.push(round[cursor++]!);
      }
      level = next;
      if (next.length > 0) depth++;
    }
  } finally {
    spill.close();
    await Promise.all(threads.map((w) => w.terminate()));
  }

  const stop = halt.stop;
  if (stop?.kind === 'event') {
    // Rebuild a shortest trace single-threaded, to the depth where the workers saw it.
    const rerun = new Model(model.protocol, { ...o, maxDepth: stop.depth, onProgress: undefined });
    return exhaustive(rerun);
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

/** Posts a message and resolves with the worker's next reply (workers answer in order). */
function request(w: Worker, message: unknown, transfer: ArrayBuffer[] = []): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      w.off('error', onError);
      resolve(m);
    };
    const onError = (e: Error) => {
      w.off('message', onMessage);
      reject(e);
    };
    w.once('message', onMessage);
    w.once('error', onError);
    w.postMessage(message, transfer);
  });
}
