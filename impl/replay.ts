/**
 * Executor replay: the proof that the executor is the spec. A checker trace is driven through
 * real node runtimes — frames encoded, authenticated and decoded by the memory network in manual
 * delivery, durable fields written to real log files and recovered from them on restart, a
 * simulated clock — and after every step each node's packed state is compared byte for byte with
 * the state the trace recorded (re-encoded through the role's schema), as are the crash flags,
 * the clients' states, the client history and the messages in flight.
 *
 * Events map one to one: deliver → deliver that frame (consumed, except under the `set`
 * network, where a message once sent stays deliverable); duplicate → deliver without consuming;
 * drop → drop; action → fire that action (with that choice) on that node; crash → the node
 * stops, and its state is what it recovers from its log; restart → it rejoins the network;
 * tick → the clock advances one unit (1 ms); drift → the node's clock offset moves; invoke → the
 * client sends its next request (a restarted client's registration: `sendRegistration`); restart
 * of a client → that client is closed and a new one starts under the same id (`--client-restarts`).
 *
 * The trace's world fingerprints cover the checker's packed world (network and history layout
 * included), which the executor does not build; comparing every component's canonical bytes is
 * the stronger check and says which component differs.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncodeError, type NodeId, type Protocol, type Schema, SchemaError, Writer, equalBytes, equalValues, t } from '../specs/core/index.ts';
import type { ClientState } from '../specs/core/layout.ts';
import type { TraceEvent, TraceFile, TraceStep } from '../traces/format.ts';
import { eventText } from '../traces/event-text.ts';
import { ClusterClient } from './client.ts';
import { simulatedClock } from './clock/index.ts';
import { fileStore } from './durableStore.ts';
import { damageLog } from './storage/damageLog.ts';
import { markPath } from './storage/highWaterMark.ts';
import type { LogDamageKind } from './storage/recoverLog.ts';
import { HistoryLog } from './history.ts';
import { CHANNEL, ClusterLayout, resolveClusterParams } from './layout.ts';
import { MemoryNetwork, type InFlightFrame } from './net/index.ts';
import { UsageError } from './net/usageError.ts';
import { NodeRuntime, type NodeFailure } from './nodeRuntime.ts';

/** Options of {@link replayOnExecutor}. */
export interface ExecutorReplayOptions {
  /** Where the nodes' logs go; default a temporary directory, removed afterwards. */
  readonly dataDir?: string;
  /** Flush mode of the logs. Default `datasync`. */
  readonly syncMode?: 'datasync' | 'fsync' | 'none';
}

/** The first place where the executor and the trace part ways. */
export interface ExecutorDivergence {
  /** The step (0 = the initial state). */
  readonly step: number;
  /** The step's event, in words. */
  readonly event: string;
  /** What differs. */
  readonly reason: string;
  /** The node concerned, when one is. */
  readonly node?: string;
  /** The trace's value and the executor's (JSON), when a state or the network differs. */
  readonly expected?: unknown;
  readonly got?: unknown;
}

export type ExecutorReplayResult =
  | {
      readonly ok: true;
      /** Steps replayed (events after the initial state). */
      readonly steps: number;
      /** Node states compared byte for byte (nodes × states). */
      readonly comparisons: number;
      /** Frames delivered, durable flushes made, and restarts recovered from a log. */
      readonly framesDelivered: number;
      readonly durableSaves: number;
      readonly recoveries: number;
    }
  | { readonly ok: false; readonly steps: number; readonly divergence: ExecutorDivergence };

type Event = TraceEvent;

/** Where a detected lost write keeps the node's high-water mark between its crash and its restart. */
const lostMarkPath = (log: string): string => `${markPath(log)}.lost`;

/** Replays `trace` on node runtimes of `protocol` (the trace's variant already applied). */
export async function replayOnExecutor(protocol: Protocol, trace: TraceFile, options: ExecutorReplayOptions = {}): Promise<ExecutorReplayResult> {
  const fn = 'replayOnExecutor';
  if ((trace.variant ?? undefined) !== (protocol.variantName ?? undefined)) {
    throw new UsageError(fn, 'wrong-variant', `the trace is of variant ${trace.variant ?? '(none)'}, the protocol is ${protocol.variantName ?? '(no variant)'}`);
  }
  const params = resolveClusterParams(protocol, trace.params);
  const clientRestarts = typeof trace.options.clientRestarts === 'number' && trace.options.clientRestarts > 0;
  const layout = new ClusterLayout(protocol, params, { clientRestarts });
  const names = Array.from({ length: layout.nodeCount }, (_, id) => layout.nodeName(id));
  if (names.join(',') !== trace.nodes.join(',')) {
    throw new UsageError(fn, 'wrong-nodes', `the trace's nodes (${trace.nodes.join(', ')}) are not the spec's under these params (${names.join(', ')})`);
  }
  const o = trace.options;
  const mode = o.network === 'bag' || o.network === 'fifo' ? o.network : 'set';
  const epsilon = typeof o.trueTimeEpsilon === 'number' ? o.trueTimeEpsilon : 0;

  const clock = simulatedClock({ startMs: 0 });
  const network = new MemoryNetwork({ clusterId: 1, key: new Uint8Array(32).fill(7), seed: 0, clock, delivery: 'manual' });
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'pacta-replay-')));
  const failures: NodeFailure[] = [];
  const stores = layout.protocolNodeIds.map((id) => fileStore(join(dataDir, `node-${id}.log`), { syncMode: options.syncMode ?? 'datasync' }));
  const saves = (): number => stores.reduce((n, s) => n + s.saves, 0);
  const runtimes = layout.protocolNodeIds.map(
    (id) =>
      new NodeRuntime({
        layout, id, clock, timers: false, trueTimeEpsilon: epsilon, store: stores[id]!,
        onEvent: (e) => void (e.kind === 'error' && failures.push(e.error)),
      }),
  );
  const history = new HistoryLog();
  const clients = new Map<NodeId, ClusterClient>();
  const newClient = (id: NodeId) => new ClusterClient({ layout, id, transport: network.transport(id), clock, history, sessions: false });
  /** With client restarts: what the model's client state holds beyond the client object's own (checker/clients.ts). */
  const incarnations = new Map<NodeId, { invoked: number; restarts: number; registering: boolean }>();
  if (layout.clients) {
    for (let k = 0; k < layout.clients.role.count; k++) {
      const id = layout.clients.role.base + k;
      clients.set(id, newClient(id));
      if (clientRestarts) incarnations.set(id, { invoked: 0, restarts: 0, registering: false });
    }
  }
  /** Client `id`'s state as the model has it. */
  const clientState = (id: NodeId): ClientState => {
    const c = clients.get(id)!;
    const k = incarnations.get(id);
    return k ? { next: k.invoked, pending: c.modelState.pending, seq: c.nextRequestId, restarts: k.restarts, registering: k.registering } : c.modelState;
  };
  const historySchema = layout.clients
    ? (t.array(t.union('kind', {
        invoke: { client: t.node('client'), id: t.u32, op: layout.clients.op },
        return: { client: t.node('client'), id: t.u32, result: layout.clients.result },
      })) as Schema<readonly unknown[]>)
    : undefined;
  const crashed = new Set<NodeId>();
  let comparisons = 0;
  let delivered = 0;
  let recoveries = 0;

  const describe = (e: Event): string => describeEvent(layout, e);
  const settle = async (): Promise<void> => {
    for (let round = 0; round < 4; round++) await Promise.all(runtimes.map((r) => r.idle()));
  };

  /** The payload bytes and channel a trace message stands for. */
  const frameOf = (from: NodeId, to: NodeId, msg: unknown): { channel: number; payload: Uint8Array } => {
    const w = new Writer(64);
    if (layout.isClient(from)) {
      const m = msg as { id: unknown; op: unknown };
      layout.clients!.request.encode(w, layout.clients!.request.fromJSON({ id: m.id, op: m.op }, 'msg'));
      return { channel: CHANNEL.request, payload: w.toBytes() };
    }
    if (layout.isClient(to)) {
      const m = msg as { id: unknown; result: unknown };
      layout.clients!.reply.encode(w, layout.clients!.reply.fromJSON({ id: m.id, result: m.result }, 'msg'));
      return { channel: CHANNEL.reply, payload: w.toBytes() };
    }
    protocol.messages.encode(w, protocol.messages.fromJSON(msg, 'msg'));
    return { channel: CHANNEL.message, payload: w.toBytes() };
  };
  const keyOf = (from: NodeId, to: NodeId, channel: number, payload: Uint8Array): string =>
    `${from}>${to}/${channel}/${Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('hex')}`;

  /** Compares every component of the executor with the trace's state after step `i`; a divergence or null. */
  const compare = (i: number, step: TraceStep, event: string): ExecutorDivergence | null => {
    for (const n of step.state.nodes) {
      const role = layout.roleOf(n.id)!;
      const d = (reason: string, extra: Partial<ExecutorDivergence> = {}): ExecutorDivergence => ({ step: i, event, node: n.name, reason, ...extra });
      if (layout.isClient(n.id)) {
        const c = clients.get(n.id)!;
        const schema = layout.clients!.state;
        const want = packed(schema, schema.fromJSON(n.state, n.name));
        const got = packed(schema, clientState(c.id));
        comparisons++;
        if (!equalBytes(want, got)) return d('client state differs', { expected: n.state, got: schema.toJSON(clientState(c.id)) });
        continue;
      }
      if (n.crashed !== crashed.has(n.id)) return d(n.crashed ? 'the trace has it crashed, the executor has it up' : 'the executor has it crashed, the trace has it up');
      const r = runtimes[n.id]!;
      if (r.status === 'failed') return d(`the node failed: ${r.failure?.message ?? ''}`);
      const want = packed(role.def.state, role.def.state.fromJSON(n.state, n.name));
      const got = r.stateBytes();
      comparisons++;
      if (!equalBytes(want, got)) return d('state differs', { expected: n.state, got: role.def.state.toJSON(r.state) });
    }
    const netDiff = compareNetwork(step, network.inFlight());
    if (netDiff) return { step: i, event, reason: netDiff.reason, expected: netDiff.expected, got: netDiff.got };
    if (historySchema) {
      const wantJSON = (step.state as { history?: unknown[] }).history ?? [];
      const want = packed(historySchema, historySchema.fromJSON(wantJSON, 'history'));
      const got = packed(historySchema, history.events());
      if (!equalBytes(want, got)) return { step: i, event, reason: 'client history differs', expected: wantJSON, got: historySchema.toJSON(history.events()) };
    }
    return null;
  };

  /** The messages in flight: a set (`set`), a multiset (`bag`), or one queue per link (`fifo`). */
  const compareNetwork = (step: TraceStep, frames: InFlightFrame[]): { reason: string; expected: unknown; got: unknown } | null => {
    const want: string[] = [];
    for (const e of step.state.network) {
      const f = frameOf(e.from, e.to, e.msg);
      for (let k = 0; k < (mode === 'bag' ? e.count : 1); k++) want.push(keyOf(e.from, e.to, f.channel, f.payload));
    }
    let got = frames.map((f) => keyOf(f.from, f.to, f.kind, f.payload));
    if (mode === 'set') got = [...new Set(got)];
    const norm = (keys: string[]): string[] => (mode === 'fifo' ? stableByLink(keys) : [...keys].sort());
    const a = norm(want);
    const b = norm(got);
    if (a.length === b.length && a.every((k, j) => k === b[j])) return null;
    return { reason: `messages in flight differ (${mode} network): the trace has ${a.length}, the executor ${b.length}`, expected: step.state.network, got: frames.map((f) => ({ from: f.from, to: f.to, channel: f.kind, bytes: f.payload.length })) };
  };

  /**
   * Delivers, duplicates or drops the frame trace event `e` names (a plain event, or the step of a
   * lost write): null when done, else why the executor differs.
   */
  const deliverStep = (e: Extract<Event, { kind: 'deliver' | 'duplicate' | 'drop' }>): string | null => {
    const { channel, payload } = frameOf(e.from, e.to, e.msg);
    const frames = network.inFlight();
    let frame: InFlightFrame | undefined;
    if (mode === 'fifo') {
      frame = frames.find((f) => f.from === e.from && f.to === e.to);
      if (frame && !(frame.kind === channel && equalBytes(frame.payload, payload))) return 'the message is not at the head of its link on the executor';
    } else {
      frame = frames.find((f) => f.from === e.from && f.to === e.to && f.kind === channel && equalBytes(f.payload, payload));
    }
    if (!frame) return 'the executor has no such message in flight';
    if (e.kind === 'drop') {
      network.drop(frame.id);
      return null;
    }
    if (crashed.has(e.to)) return 'the receiver is crashed on the executor';
    network.deliver(frame.id, { consume: e.kind === 'deliver' && mode !== 'set' });
    delivered++;
    return null;
  };

  /** Fires the action trace event `e` names: null when it ran, else why the executor differs (spec code that throws, throws). */
  const actionStep = async (e: Extract<Event, { kind: 'action' }>): Promise<string | null> => {
    const r = runtimes[e.node];
    if (!r) return `${e.node} is not a protocol node`;
    if (crashed.has(e.node)) return 'the node is crashed on the executor';
    const action = r.role.def.actions?.[e.action];
    if (!action) return `role ${r.role.name} has no action '${e.action}'`;
    // The choice as the spec makes it (trace JSON loses Maps and object identity).
    let arg = e.arg;
    if (action.choices) arg = action.choices(r.state, layout.ctx(e.node)).find((c: unknown) => equalValues(c, e.arg)) ?? e.arg;
    return (await r.fire(e.action, arg)) ? null : 'the action is not enabled on the executor';
  };

  // The step being replayed, for a trace whose messages or states do not fit the spec's schemas.
  let at = 0;
  try {
    for (const r of runtimes) {
      await r.open();
      r.start(network.transport(r.id));
    }
    const first = compare(0, trace.steps[0]!, 'init');
    if (first) return { ok: false, steps: 0, divergence: first };
    const last = trace.steps.length - 1;
    for (let i = 1; i <= last; i++) {
      at = i;
      const step = trace.steps[i]!;
      const event = step.event as Event;
      const text = describe(event);
      const diverge = (reason: string, extra: Partial<ExecutorDivergence> = {}): ExecutorReplayResult => ({ ok: false, steps: i - 1, divergence: { step: i, event: text, reason, ...extra } });
      const failedBefore = failures.length;
      switch (event.kind) {
        case 'deliver':
        case 'duplicate':
        case 'drop': {
          const why = deliverStep(event);
          if (why) return diverge(why);
          break;
        }
        case 'action': {
          let why: string | null;
          try {
            why = await actionStep(event);
          } catch (e) {
            if (failures.length > failedBefore) break;
            throw e;
          }
          if (why) return diverge(why);
          break;
        }
        case 'crash': {
          const r = runtimes[event.node]!;
          if (event.lostWrite) {
            // The model's lost write (--disk-faults): the step runs and its messages go out, then the
            // node crashes and the step's records are cut from its log (the write the disk lost); its
            // high-water mark, if the log keeps one, stays as written, as a lying disk leaves it.
            if (crashed.has(event.node)) return diverge('the node is crashed on the executor');
            const log = join(dataDir, `node-${event.node}.log`);
            const before = await readFile(log);
            // The step itself, replayed as its own event would be.
            const step = event.lostWrite;
            const why = step.kind === 'deliver' ? deliverStep(step) : await actionStep(step);
            if (why) return diverge(why);
            await settle(); // the write flushed and the messages that waited on it sent
            await r.crash();
            // The log as it was before the step: its appended records cut (or a compaction's rename undone).
            await writeFile(log, before);
            // The trace's crashed node holds the state before the step, as recovery reads the log
            // alone; its restart (below) brings the mark back, which finds the loss.
            if (r.role.def.lostWrites === 'detected') await rename(markPath(log), lostMarkPath(log));
            crashed.add(event.node);
            await r.open();
            recoveries++;
            break;
          }
          await r.crash();
          crashed.add(event.node);
          // What the node would restart with: recovered from its log now.
          await r.open();
          recoveries++;
          break;
        }
        case 'restart': {
          if (layout.isClient(event.node)) {
            // A client restarts with no memory: its pending call keeps an unknown outcome, its ids start over.
            const k = incarnations.get(event.node);
            if (!k) return diverge('the trace restarts a client, but its options allow no client restarts');
            await clients.get(event.node)!.close();
            clients.set(event.node, newClient(event.node));
            k.restarts++;
            k.registering = layout.protocol.clients?.session !== undefined;
            break;
          }
          const r = runtimes[event.node]!;
          if (!crashed.has(event.node)) return diverge('the node is not crashed on the executor');
          if ('damage' in event && event.damage === 'lost-write') {
            // The log was cut at the crash and read then without its mark. A role that declares
            // detection gets its high-water mark back and recovers again: the mark finds the log
            // below it and onRecover is told lost-write. Any other role read the cut log clean.
            if (r.role.def.lostWrites === 'detected') {
              await r.crash();
              const log = join(dataDir, `node-${event.node}.log`);
              await rename(lostMarkPath(log), markPath(log));
              try {
                await r.open();
              } catch (e) {
                return diverge(`the node does not recover from the lost write on the executor: ${e instanceof Error ? e.message : String(e)}`);
              }
              recoveries++;
              if (r.recovery?.damage !== 'lost-write') return diverge(`the executor found ${r.recovery ? `a ${r.recovery.damage}` : 'no damage'}, the trace a detected lost write`);
            } else if (r.recovery) return diverge(`the executor found a ${r.recovery.damage}, the trace an undetected lost write`);
          } else if ('damage' in event && event.damage) {
            // The model's damaged restart (--disk-faults): damage the log file as the kind says and
            // recover it again; the runtime finds the damage and hands it to the role's onRecover.
            await r.crash();
            await damageLog(join(dataDir, `node-${event.node}.log`), event.damage as LogDamageKind);
            try {
              await r.open();
            } catch (e) {
              return diverge(`the node does not recover from the damage on the executor: ${e instanceof Error ? e.message : String(e)}`);
            }
            recoveries++;
            if (r.recovery?.damage !== event.damage) return diverge(`the executor found ${r.recovery ? `a ${r.recovery.damage}` : 'no damage'}, the trace a ${String(event.damage)}`);
          }
          crashed.delete(event.node);
          r.start(network.transport(event.node));
          break;
        }
        case 'tick':
          clock.advance(1);
          break;
        case 'drift':
          runtimes[event.node]!.clockOffset += event.by;
          break;
        case 'invoke': {
          const c = clients.get(event.node);
          if (!c) return diverge(`${event.node} is not a client`);
          const op = layout.clients!.op.fromJSON(event.op, 'op');
          const k = incarnations.get(event.node);
          if (k?.registering) {
            // A restarted client's registration (nonce: its restart count, as the model's).
            c.sendRegistration(event.to, k.restarts).then((registered) => void (registered && (k.registering = false)), () => {});
            break;
          }
          if (k) k.invoked++;
          c.send(op, event.to).catch(() => {});
          break;
        }
        default:
          return diverge(`unknown event kind '${(event as { kind: string }).kind}'`);
      }
      await settle();
      if (i === last && trace.result === 'error') {
        if (failures.length > failedBefore) return { ok: true, steps: i, comparisons, framesDelivered: delivered, durableSaves: saves(), recoveries };
        return diverge(`the trace says spec code threw (${trace.error ?? ''}), the executor ran the step without error`);
      }
      if (failures.length > failedBefore) return diverge(`a node failed: ${failures[failures.length - 1]!.message}`);
      const d = compare(i, step, text);
      if (d) return { ok: false, steps: i - 1, divergence: d };
    }
    return { ok: true, steps: last, comparisons, framesDelivered: delivered, durableSaves: saves(), recoveries };
  } catch (e) {
    // A value of the trace that the spec's schemas refuse is bad input, named by its step.
    if (e instanceof SchemaError || e instanceof EncodeError) {
      throw new UsageError('replayOnExecutor', 'bad-trace', `step ${at}: ${e.message} (the trace does not fit ${protocol.name}'s schemas)`);
    }
    throw e;
  } finally {
    await Promise.all(runtimes.map((r) => r.crash()));
    await Promise.all([...clients.values()].map((c) => c.close()));
    if (temporary) await rm(dataDir, { recursive: true, force: true });
  }
}

function packed<T>(schema: Schema<T>, v: T): Uint8Array {
  const w = new Writer(64);
  schema.encode(w, v);
  return w.toBytes();
}

/** Keys grouped by link (from>to), each link's keys in their original order; links sorted. */
function stableByLink(keys: string[]): string[] {
  const links = new Map<string, string[]>();
  for (const k of keys) {
    const link = k.slice(0, k.indexOf('/'));
    const list = links.get(link) ?? [];
    list.push(k);
    links.set(link, list);
  }
  return [...links.keys()].sort().flatMap((l) => links.get(l)!);
}

function describeEvent(layout: ClusterLayout, e: Event): string {
  return eventText(e, (id) => layout.nodeName(id));
}

/** A replay's outcome in words (for `pacta replay --executor`): one line, plus the differing values on a divergence. */
export function formatExecutorReplay(file: string, r: ExecutorReplayResult): string {
  if (r.ok) {
    return `${file}: replays on the executor: all ${r.steps} steps reach the trace's states (${r.comparisons} node states equal byte for byte; ${r.framesDelivered} frames delivered, ${r.durableSaves} durable flushes, ${r.recoveries} recoveries from a log)\n`;
  }
  const d = r.divergence;
  const lines = [`${file}: diverges on the executor at step ${d.step} (${d.event})${d.node ? `, ${d.node}` : ''}: ${d.reason}`];
  if (d.expected !== undefined) lines.push(`  trace:    ${JSON.stringify(d.expected)}`);
  if (d.got !== undefined) lines.push(`  executor: ${JSON.stringify(d.got)}`);
  return `${lines.join('\n')}\n`;
}
