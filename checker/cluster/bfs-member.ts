/**
 * A worker's part in a partitioned BFS (PReach's scheme, on Redis): it owns the states whose
 * fingerprint falls in its range (ownerOf), keeps them in its own visited set, and expands the
 * frontier it owns one level at a time. A successor it owns goes into its own next level at once;
 * any other is appended to a batch for its owner, and batches travel through the owner's Redis
 * list (many states per element, one pipelined round trip per slice of work: pushes out, pops in).
 * The owner inserts what it receives; a new state is checked (goals, invariants) there, once.
 *
 * A level ends with a termination barrier in Redis: each member adds the batches it sent per
 * owner to the level's hash and counts itself finished; once all have, each drains its list
 * until it has received exactly the batches addressed to it. Nothing is sent while draining
 * (received states wait for the next level), so the counts are final when the last member
 * finishes. The counters, checks and successor function are the single-machine explorers'
 * (Search, World.successors with its fingerprint shortcut); only where states live differs.
 */
import type { Redis } from 'ioredis';
import type { Model } from '../model.ts';
import { RecentSet } from '../recent-set.ts';
import { Search } from '../search.ts';
import { HandlerError, type WorldState } from '../world.ts';
import { OwnedStates, ownerOf } from './owned-states.ts';
import type { RunKeys } from './redis-link.ts';
import { BATCH_BYTES, BatchWriter, readBatch } from './state-batch.ts';

/** States expanded between two exchanges with Redis. */
const SLICE_STATES = 2048;
/** ... or this many milliseconds, whichever comes first. */
const SLICE_MS = 100;
/** Batches popped from the inbox per exchange. */
const POP_BATCHES = 8;

/** The run's coordinator is gone (it gave the run up): the member leaves it. */
export class RunGone extends Error {
  override readonly name = 'RunGone';
}

/** Something a member saw that ends the search (the coordinator picks one and rebuilds its trace). */
export type MemberEvent =
  /** State (hi, lo), new at `depth`, violates `property`. */
  | { kind: 'violation'; property: string; hi: number; lo: number; depth: number }
  /** State (hi, lo) at `depth` has no enabled event. */
  | { kind: 'deadlock'; hi: number; lo: number; depth: number }
  /** A handler threw while state (hi, lo) at `depth` was expanded. */
  | { kind: 'error'; message: string; hi: number; lo: number; depth: number };

/** What a member reports when a level (or the initial state, level 0) is done. */
export interface LevelReport {
  kind: 'level';
  member: number;
  /** The level expanded (-1: the initial state was placed). */
  level: number;
  /** States this member owns now, and how many of them are new in the next level. */
  owned: number;
  fresh: number;
  /** Successors computed while expanding the level (the initial state counts once, on its owner). */
  generated: number;
  /** Bytes of this member's share of the visited set. */
  visitedBytes: number;
  events: MemberEvent[];
  /** Goals first reached here: [goal index, depth]. */
  goals: [number, number][];
  batchesSent: number;
  bytesSent: number;
  statesSent: number;
  batchesReceived: number;
  /** Redis round trips this member made for the level. */
  roundTrips: number;
  seconds: number;
}

/** The frontier a member owns: chunks of [u32 hi][u32 lo][u32 length][packed bytes]. */
class OwnedFrontier {
  readonly chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  count = 0;

  push(hi: number, lo: number, state: Uint8Array): void {
    if (this.used + 12 + state.length > this.buf.length) {
      this.chunks.push(this.buf.subarray(0, this.used));
      this.buf = Buffer.allocUnsafe(Math.max(1 << 20, 12 + state.length));
      this.used = 0;
    }
    const b = this.buf;
    b.writeUInt32LE(hi >>> 0, this.used);
    b.writeUInt32LE(lo >>> 0, this.used + 4);
    b.writeUInt32LE(state.length, this.used + 8);
    b.set(state, this.used + 12);
    this.used += 12 + state.length;
    this.count++;
  }

  finish(): Buffer[] {
    if (this.used > 0) this.chunks.push(this.buf.subarray(0, this.used));
    this.used = 0;
    return this.chunks;
  }
}

export class BfsMember {
  readonly owned = new OwnedStates();
  private readonly search: Search;
  private readonly reported: boolean[];
  private frontier: Buffer[] = [];
  /** Fingerprints already visited here, asked before the table (see RecentSet). */
  private readonly recent = new RecentSet();
  /** Fingerprints lately sent to another owner: sending one again would only cost bytes. */
  private readonly sent = new RecentSet(18);

  constructor(
    private readonly model: Model,
    private readonly redis: Redis,
    /** A second connection for blocking pops. */
    private readonly blocking: Redis,
    private readonly keys: RunKeys,
    readonly member: number,
    readonly members: number,
  ) {
    this.search = new Search(model);
    this.reported = model.goals.map(() => false);
  }

  /** Level 0: the owner of the initial state places and checks it. */
  placeInitial(): LevelReport {
    const t0 = performance.now();
    const model = this.model;
    const init = model.world.initial();
    model.fingerprint(init);
    const hi = model.fp[0]!;
    const lo = model.fp[1]!;
    const events: MemberEvent[] = [];
    const goals: [number, number][] = [];
    let fresh = 0;
    let generated = 0;
    if (ownerOf(hi, this.members) === this.member) {
      generated = 1;
      this.owned.insert(hi, lo, 0, 0, 0);
      fresh = 1;
      const bad = this.examine(init, 0, goals);
      if (bad) events.push({ kind: 'violation', property: bad, hi, lo, depth: 0 });
      const next = new OwnedFrontier();
      next.push(hi, lo, model.pack(init));
      this.frontier = next.finish();
    }
    return this.report(-1, fresh, generated, events, goals, { batches: 0, bytes: 0, states: 0 }, 0, 0, t0);
  }

  /** Goals and invariants on a new state at `depth`: the violated property's name, if any. */
  private examine(s: WorldState, depth: number, goals: [number, number][]): string | undefined {
    const search = this.search;
    const left = search.goalsLeft;
    const bad = search.examine(s, depth);
    if (search.goalsLeft < left) {
      for (let i = 0; i < search.goals.length; i++) {
        if (search.goals[i]!.reached && !this.reported[i]) {
          this.reported[i] = true;
          goals.push([i, depth]);
        }
      }
    }
    return bad?.name;
  }

  /** Expands the frontier this member owns at `level`, exchanging states with the other members. */
  async expandLevel(level: number): Promise<LevelReport> {
    const t0 = performance.now();
    const model = this.model;
    const world = model.world;
    const fp = model.fp;
    const members = this.members;
    const me = this.member;
    const owned = this.owned;
    const recent = this.recent;
    const sent = this.sent;
    const keys = this.keys;
    const depth = level + 1;
    const next = new OwnedFrontier();
    const out: (BatchWriter | null)[] = Array.from({ length: members }, (_, k) => (k === me ? null : new BatchWriter(depth)));
    const batchesTo = new Array<number>(members).fill(0);
    const traffic = { batches: 0, bytes: 0, states: 0 };
    const events: MemberEvent[] = [];
    const goals: [number, number][] = [];
    let generated = 0;
    let fresh = 0;
    let received = 0;
    let roundTrips = 0;
    let stopped = false;
    let curHi = 0;
    let curLo = 0;

    const visit = (s: WorldState): boolean => {
      generated++;
      model.fingerprint(s);
      const hi = fp[0]!;
      const lo = fp[1]!;
      const owner = ownerOf(hi, members);
      if (owner === me) {
        if (!owned.insert(hi, lo, curHi, curLo, depth)) return false;
        recent.add(hi, lo);
        fresh++;
        const bad = this.examine(s, depth, goals);
        if (bad) {
          events.push({ kind: 'violation', property: bad, hi, lo, depth });
          return true;
        }
        next.push(hi, lo, model.pack(s));
        return false;
      }
      if (sent.has(hi, lo)) return false;
      sent.add(hi, lo);
      out[owner]!.push(hi, lo, curHi, curLo, model.pack(s));
      traffic.states++;
      return false;
    };
    // Successors already visited (here, or sent to their owner lately) are recognized from their
    // fingerprint before they are built, as in the single-machine BFS.
    const seen = model.symmetry || !model.options.fastPath
      ? undefined
      : (hi: number, lo: number): boolean => {
          const known = ownerOf(hi, members) === me ? recent.visitedIn(owned, hi, lo) : sent.has(hi, lo);
          if (known) generated++;
          return known;
        };

    const receive = (batch: Buffer) => {
      if (batch.length === 0) return; // the barrier's wake-up call (below), not a batch
      const { level: sentFor } = readBatch(batch, (hi, lo, ph, pl, bytes) => {
        if (!owned.insert(hi, lo, ph, pl, depth)) return;
        fresh++;
        const bad = this.examine(world.decode(bytes, true), depth, goals);
        if (bad) events.push({ kind: 'violation', property: bad, hi, lo, depth });
        else next.push(hi, lo, bytes);
      });
      if (sentFor !== depth) throw new Error(`partitioned BFS: a batch for depth ${sentFor} arrived during depth ${depth}`);
      received++;
    };

    /** One round trip: full batches (all of them at the end) out, waiting batches in, the stop flag. */
    const exchange = async (final: boolean): Promise<void> => {
      const p = this.redis.pipeline();
      for (let k = 0; k < members; k++) {
        const w = out[k];
        if (!w || w.count === 0 || (!final && w.bytes < BATCH_BYTES)) continue;
        const b = w.take();
        p.rpush(keys.inbox(k), b);
        batchesTo[k]!++;
        traffic.batches++;
        traffic.bytes += b.length;
      }
      p.lpopBuffer(keys.inbox(me), POP_BATCHES);
      p.exists(keys.stop);
      const results = (await p.exec())!;
      roundTrips++;
      for (const [err] of results) if (err) throw err;
      const popped = results[results.length - 2]![1] as Buffer[] | null;
      if (popped) for (const b of popped) receive(b);
      if (results[results.length - 1]![1] === 1) stopped = true;
    };

    try {
      let sinceExchange = 0;
      let sliceStart = performance.now();
      expanding: for (const chunk of this.frontier) {
        let at = 0;
        while (at < chunk.length) {
          curHi = chunk.readUInt32LE(at);
          curLo = chunk.readUInt32LE(at + 4);
          const len = chunk.readUInt32LE(at + 8);
          const state = world.decode(chunk.subarray(at + 12, at + 12 + len), true);
          at += 12 + len;
          let enabled: number;
          try {
            enabled = world.successors(state, visit, seen);
          } catch (e) {
            if (!(e instanceof HandlerError)) throw e;
            events.push({ kind: 'error', message: e.message, hi: curHi, lo: curLo, depth: level });
            break expanding;
          }
          if (enabled === 0 && model.options.deadlock) events.push({ kind: 'deadlock', hi: curHi, lo: curLo, depth: level });
          if (events.length > 0) break expanding;
          // Exchange every SLICE_STATES states, or sooner on a slow (loaded) machine: the
          // heartbeat timer only runs between slices.
          if (++sinceExchange === SLICE_STATES || ((sinceExchange & 63) === 0 && performance.now() - sliceStart > SLICE_MS)) {
            sinceExchange = 0;
            sliceStart = performance.now();
            await exchange(false);
            if (stopped || events.length > 0) break expanding;
          }
        }
      }
      // A member that saw a failure tells the others to stop expanding (the level still closes).
      if (events.length > 0) await this.redis.set(keys.stop, '1', 'EX', 86_400);
      await exchange(true);
      this.frontier = [];
      // The barrier: sent counts, then finished; then drain until everything addressed here arrived.
      const p = this.redis.pipeline();
      for (let k = 0; k < members; k++) if (batchesTo[k]) p.hincrby(keys.sent(level), String(k), batchesTo[k]!);
      p.incr(keys.finished(level));
      const done = (await p.exec())!;
      for (const [err] of done) if (err) throw err;
      roundTrips++;
      // The last member to finish wakes the others from their blocking pops: the counts are final.
      if (done[done.length - 1]![1] === members) {
        const wake = this.redis.pipeline();
        for (let k = 0; k < members; k++) if (k !== me) wake.rpush(keys.inbox(k), Buffer.alloc(0));
        await wake.exec();
        roundTrips++;
      }
      let expected = -1;
      while (expected < 0 || received < expected) {
        if (expected < 0) {
          const [[e1, finished], [e2, mine], [e3, coordinator]] = (await this.redis.pipeline().get(keys.finished(level)).hget(keys.sent(level), String(me)).exists(keys.coordinator).exec())!;
          roundTrips++;
          if (e1 || e2 || e3) throw e1 ?? e2 ?? e3;
          // A member that died never finishes: the coordinator gives up the run, and so does this member.
          if (coordinator === 0) throw new RunGone();
          if (Number(finished) === members) expected = Number(mine ?? 0);
          if (expected >= 0 && received >= expected) break;
        }
        const got = await this.blocking.blpopBuffer(keys.inbox(me), 0.25);
        roundTrips++;
        if (got) {
          receive(got[1]);
          const more = await this.redis.lpopBuffer(keys.inbox(me), POP_BATCHES);
          roundTrips++;
          if (more) for (const b of more) receive(b);
        }
      }
    } finally {
      this.frontier = next.finish();
    }
    return this.report(level, fresh, generated, events, goals, traffic, received, roundTrips, t0);
  }

  private report(level: number, fresh: number, generated: number, events: MemberEvent[], goals: [number, number][], traffic: { batches: number; bytes: number; states: number }, received: number, roundTrips: number, t0: number): LevelReport {
    return {
      kind: 'level', member: this.member, level, owned: this.owned.size, fresh, generated, visitedBytes: this.owned.bytes(), events, goals,
      batchesSent: traffic.batches, bytesSent: traffic.bytes, statesSent: traffic.states, batchesReceived: received, roundTrips,
      seconds: (performance.now() - t0) / 1000,
    };
  }
}
