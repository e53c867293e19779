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
import { Worker } from 'node:worker_threads';
import type { SearchResult } from './exhaustive.ts';
import { exhaustive, progress } from './exhaustive.ts';
import { collisionProbability } from './fingerprint.ts';
import { Model } from './model.ts';
import type { GoalStatus } from './result.ts';
import { SharedStore } from './shared-store.ts';
import { Expander, type WorkerEvent, type WorkerReply, type WorkerTask } from './parallel-worker.ts';

/** How many workers `--workers` defaults to: the cores available. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

interface Chunk {
  buffer: ArrayBuffer;
  length: number;
}

const PROGRESS_MS = 250;
/** A level this large (about 250k two-phase states) is worth starting the workers for (measured: two-phase rms 8, whose levels stay below it, ran slower with workers; rms 9 ran 1.93x faster). */
const SPAWN_LEVEL_BYTES = 8 << 20;

/**
 * BFS on `workers` threads. `spawnLevelBytes`: the level size (packed bytes) at which workers
 * are started; below it the coordinator works alone (tests pass 0 to always use workers).
 */
export async function parallelBfs(model: Model, specRef: string, workers: number, spawnLevelBytes = SPAWN_LEVEL_BYTES): Promise<SearchResult> {
  const o = model.options;
  const started = performance.now();
  const goals: GoalStatus[] = model.goals.map((g) => ({ name: g.name, reached: false }));
  let store = SharedStore.create(1 << 16);

  // The initial state, checked here like any other.
  const init = model.world.initial();
  model.fingerprint(init);
  store.insert(model.fp[0]!, model.fp[1]!);
  model.view.state = init;
  model.goals.forEach((g, i) => {
    if (g.check(model.view)) goals[i] = { name: g.name, reached: true, depth: 0 };
  });
  if (model.violated(init)) return exhaustive(model);
  const packed = model.pack(init);
  const first = new Uint8Array(4 + packed.length);
  new DataView(first.buffer).setUint32(0, packed.length, true);
  first.set(packed, 4);
  let level: Chunk[] = [{ buffer: first.buffer, length: first.length }];

  // Workers start only once a level is big enough to pay for them, and in the background
  // (loading TypeScript and the spec takes a moment); until they are ready the coordinator
  // expands levels itself, so small searches never wait for them or start them at all.
  const { onProgress: _ignored, ...options } = o;
  const threads: Worker[] = [];
  const local = new Expander(model, store);
  // Holders, not `let`s: callbacks set them, which flow analysis cannot see.
  const boot: { pool: Worker[] | null } = { pool: null };
  let poolStore = store;
  const spawn = () => {
    if (threads.length > 0) return;
    poolStore = store;
    for (let k = 0; k < workers; k++) threads.push(new Worker(new URL('./parallel-worker.mjs', import.meta.url)));
    Promise.all(
      threads.map((w) => request(w, { kind: 'init', specRef, variant: model.protocol.variantName ?? null, options, table: store.tableBuffer, counters: store.counterBuffer })),
    ).then(
      () => {
        boot.pool = threads;
      },
      () => {
        // A worker that cannot start leaves the coordinator to do the work alone.
      },
    );
  };

  let generated = 1;
  let depth = 0;
  type Stop = { kind: 'event'; event: WorkerEvent; depth: number } | { kind: 'limit'; reason: 'max-states' | 'max-depth' | 'time' };
  // A holder, not a `let`: workers' callbacks set it, which flow analysis cannot see.
  const halt: { stop: Stop | null } = { stop: null };
  let lastReport = started;
  let nextId = 0;
  try {
    while (level.length > 0 && halt.stop === null) {
      if (depth >= o.maxDepth) {
        halt.stop = { kind: 'limit', reason: 'max-depth' };
        break;
      }
      if (level.reduce((n, c) => n + c.length, 0) >= spawnLevelBytes) spawn();
      const next: Chunk[] = [];
      const queue: { chunk: Chunk; offset: number }[] = level.map((chunk) => ({ chunk, offset: 0 }));
      level = [];
      while (queue.length > 0 && halt.stop === null) {
        // Room for this round: grow between rounds, while no worker is inserting.
        if (store.size > store.limit / 2) {
          let slots = store.slots * 2;
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
            const task: WorkerTask = { kind: 'task', id: nextId++, buffer: item.chunk.buffer, offset: item.offset, length: item.chunk.length, depth };
            let reply: WorkerReply;
            if (w === null) {
              reply = local.expand(task);
              await new Promise((resolve) => setImmediate(resolve)); // let worker start-up messages in
            } else {
              reply = (await request(w, task, [item.chunk.buffer])) as WorkerReply;
            }
            generated += reply.generated;
            for (const c of reply.chunks) next.push(c);
            for (const g of reply.goals) if (!goals[g]!.reached) goals[g] = { name: goals[g]!.name, reached: true, depth: depth + 1 };
            if (reply.event && halt.stop === null) halt.stop = { kind: 'event', event: reply.event, depth: depth + 1 };
            if (reply.rest) queue.push({ chunk: { buffer: reply.rest, length: task.length }, offset: reply.processed });
            if (store.size >= o.maxStates && halt.stop === null) halt.stop = { kind: 'limit', reason: 'max-states' };
            const now = performance.now();
            if ((now - started) / 1000 > o.timeSeconds && halt.stop === null) halt.stop = { kind: 'limit', reason: 'time' };
            if (o.onProgress && now - lastReport >= PROGRESS_MS) {
              lastReport = now;
              o.onProgress(progress(store.size, generated, depth + 1, queue.length, started, now));
            }
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
    await Promise.all(threads.map((w) => w.terminate()));
  }

  const stop = halt.stop;
  if (stop?.kind === 'event') {
    // Rebuild a shortest trace single-threaded, to the depth where the workers saw it.
    const rerun = new Model(model.protocol, { ...o, maxDepth: stop.depth, onProgress: undefined });
    return exhaustive(rerun);
  }
  const seconds = (performance.now() - started) / 1000;
  const distinct = store.size;
  return {
    outcome: stop ? { kind: 'limit', reason: stop.reason } : { kind: 'done' },
    goals,
    stats: {
      distinctStates: distinct,
      statesGenerated: generated,
      depth: depth + 1,
      seconds,
      statesPerSecond: seconds > 0 ? distinct / seconds : 0,
      bytesPerState: distinct ? store.table.byteLength / distinct : 0,
      collisionProbability: collisionProbability(distinct) * 4, // 62 of the 64 bits are kept
    },
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
