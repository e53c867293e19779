/**
 * Primary-backup replication of a string key-value store, with a fixed primary: the spec the
 * executor's cluster tests, benchmark and guide run (docs/running-a-cluster.md).
 *
 * Replica 0 is the primary; the others are backups. A client's `put` is appended to the
 * primary's log (durable) and sent to every backup; a backup appends what extends its log
 * (durable) and acknowledges its length; once a majority of replicas (the primary included)
 * holds an entry, the primary answers the puts up to it. A lagging backup — lost messages, a
 * crash, a partition — is caught up by the primary's `resend` action (a timer in the executor)
 * from the length it last acknowledged. `get` is answered by the primary from its log: the
 * primary is the only writer and its log never loses an entry (it is durable), so every entry
 * it holds is, or will be, committed, and reading it is linearizable. Backups answer clients
 * with `notPrimary`. A request already in the log (a duplicate) is not appended again.
 *
 * Not modeled: failover (the primary never changes, so a crashed primary makes the store
 * unavailable until it restarts — but loses nothing), log compaction, reads from backups.
 *
 * Broken variant `volatile-log`: the log is kept in memory only, so an acknowledged put is lost
 * when the primary crashes (`--crashes 1`).
 */
import { invariant, protocol, put, reachable, t, type NodeId } from '../specs/core/index.ts';

const Op = t.union('f', {
  get: { key: t.string },
  put: { key: t.string, value: t.string },
});
const Result = t.union('kind', {
  ok: {},
  value: { value: t.string },
  notPrimary: {},
});
const Entry = t.struct({ client: t.node('client'), id: t.u32, key: t.string, value: t.string });
type Entry = typeof Entry.__type;

const Msg = t.union('kind', {
  /** The primary's log from `start` on. */
  append: { start: t.u32, entries: t.array(Entry) },
  /** A backup holds the first `length` entries of the primary's log. */
  ack: { length: t.u32 },
});

const Replica = t.struct({
  /** The replicated log (durable). */
  log: t.array(Entry),
  /** Primary: how many entries each backup is known to hold. */
  acked: t.map(t.node('replica'), t.u32),
  /** Primary: puts to acknowledge once their entry (at `index`) is committed. */
  waiting: t.array(t.struct({ index: t.u32, client: t.node('client'), id: t.u32 })),
});
type Replica = typeof Replica.__type;

const spec = protocol({
  name: 'primary-backup',
  doc: 'Primary-backup KV store with a fixed primary: majority-acknowledged puts, reads at the primary.',
  params: { backups: 2, clients: 2, opsPerClient: 1 },
  messages: Msg,
  client: { op: Op, result: Result },
});

/** Entries held by a majority of replicas (the primary counts itself). */
function committed(s: Replica, replicas: number): number {
  const lengths = [s.log.length, ...[...s.acked.values()].map((n) => Math.min(n, s.log.length))].sort((a, b) => b - a);
  const majority = Math.floor(replicas / 2) + 1;
  return lengths.length >= majority ? lengths[majority - 1]! : 0;
}

/** Answers the waiting puts whose entries are committed. */
function answer(s: Replica, out: { reply(r: typeof Result.__type, to: { client: NodeId; id: number }): void }, replicas: number): Replica {
  const upTo = committed(s, replicas);
  if (!s.waiting.some((w) => w.index < upTo)) return s;
  for (const w of s.waiting) if (w.index < upTo) out.reply({ kind: 'ok' }, { client: w.client, id: w.id });
  return { ...s, waiting: s.waiting.filter((w) => w.index >= upTo) };
}

function read(log: readonly Entry[], key: string): string {
  for (let i = log.length - 1; i >= 0; i--) if (log[i]!.key === key) return log[i]!.value;
  return '';
}

const replica = spec.role(Replica)({
  count: (p) => 1 + p.backups,
  durable: ['log'],
  init: () => ({ log: [], acked: new Map(), waiting: [] }),
  onRequest: (s, req, out, ctx) => {
    if (ctx.index !== 0) {
      out.reply({ kind: 'notPrimary' });
      return s;
    }
    const op = req.op;
    if (op.f === 'get') {
      out.reply({ kind: 'value', value: read(s.log, op.key) });
      return s;
    }
    const replicas = ctx.count('replica');
    const at = s.log.findIndex((e) => e.client === req.client && e.id === req.id);
    if (at >= 0) {
      // A duplicate request: answer it again once its entry is committed.
      if (s.waiting.some((w) => w.client === req.client && w.id === req.id)) return s;
      return answer({ ...s, waiting: [...s.waiting, { index: at, client: req.client, id: req.id }] }, out, replicas);
    }
    const log = [...s.log, { client: req.client, id: req.id, key: op.key, value: op.value }];
    for (const b of ctx.nodes('replica')) {
      if (b === ctx.self) continue;
      const from = Math.min(s.acked.get(b) ?? 0, s.log.length);
      out.send(b, { kind: 'append', start: from, entries: log.slice(from) });
    }
    return answer({ ...s, log, waiting: [...s.waiting, { index: s.log.length, client: req.client, id: req.id }] }, out, replicas);
  },
  onMessage: (s, from, m, out, ctx) => {
    switch (m.kind) {
      case 'append': {
        if (ctx.index === 0) return s;
        const extends_ = m.start <= s.log.length && m.start + m.entries.length > s.log.length;
        const log = extends_ ? [...s.log.slice(0, m.start), ...m.entries] : s.log;
        out.send(from, { kind: 'ack', length: log.length });
        return log === s.log ? s : { ...s, log };
      }
      case 'ack': {
        if (ctx.index !== 0 || (s.acked.get(from) ?? -1) >= m.length) return s;
        return answer({ ...s, acked: put(s.acked, from, m.length) }, out, ctx.count('replica'));
      }
    }
  },
  actions: {
    /** The primary sends a backup the entries it is not known to hold (a lost append or ack, a restart). */
    resend: {
      choices: (_s, ctx) => ctx.nodes('replica').filter((b) => b !== ctx.self),
      when: (s, ctx, b: NodeId) => ctx.index === 0 && (s.acked.get(b) ?? 0) < s.log.length,
      do: (s, out, _ctx, b: NodeId) => {
        const from = Math.min(s.acked.get(b) ?? 0, s.log.length);
        out.send(b, { kind: 'append', start: from, entries: s.log.slice(from) });
        return s;
      },
      timerMs: [20, 40],
    },
  },
});

type HistoryEntry = { kind: 'invoke' | 'return'; client: NodeId; id: number; op?: typeof Op.__type; result?: typeof Result.__type };

export default spec.define({
  roles: { replica },
  clients: {
    count: (p) => p.clients,
    target: 'replica',
    ops: () => [{ f: 'put', key: 'x', value: '1' }, { f: 'get', key: 'x' }],
    opsPerClient: (p) => p.opsPerClient,
  },
  properties: () => [
    invariant('an acknowledged put is in the primary log', (w) => {
      const h = w.history() as HistoryEntry[];
      const log = w.node<Replica>(0).log;
      return h.every((e) => {
        if (e.kind !== 'return' || e.result?.kind !== 'ok') return true;
        return log.some((x) => x.client === e.client && x.id === e.id);
      });
    }),
    reachable('a put is acknowledged', (w) => (w.history() as HistoryEntry[]).some((e) => e.kind === 'return' && e.result?.kind === 'ok')),
    reachable('a get reads a put', (w) => (w.history() as HistoryEntry[]).some((e) => e.kind === 'return' && e.result?.kind === 'value' && e.result.value === '1')),
  ],
  variants: {
    'volatile-log': {
      doc: 'The log is not durable: a primary that crashes forgets acknowledged puts (--crashes 1).',
      roles: { replica: { durable: undefined } },
    },
  },
});
