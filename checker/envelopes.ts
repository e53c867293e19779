/**
 * Messages in flight as envelopes: their canonical bytes (from, to, channel, payload), interned
 * so that equal envelopes are one object across all worlds, with their payload decoded once.
 * Channels: protocol messages, client requests and replies (specs/core/layout.ts's CHANNEL).
 */
import { hash64 } from './fingerprint.ts';
import { CHANNEL, type Layout } from '../specs/core/layout.ts';
import { HandlerError } from '../specs/core/step.ts';
import { DecodeError, Reader, Writer } from '../specs/core/bytes.ts';
import type { NodeId, Schema } from '../specs/core/schema.ts';
import type { Envelope } from './world-state.ts';

const INTERN_SIZE = 1 << 14;

/** Byte order of `a` against `b[0..len)` (the same order as compareBytes). */
export function compareRange(a: Uint8Array, b: Uint8Array, len: number): number {
  const n = a.length < len ? a.length : len;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - len;
}

/** The index of an envelope equal to `e` (bytes and count) among `list[0..end)`, or -1. */
export function indexOfEnvelope(list: readonly Envelope[], e: Envelope, end: number): number {
  for (let i = 0; i < end; i++) {
    const x = list[i]!;
    if (x === e) return i;
    if (x.hHi !== e.hHi || x.hLo !== e.hLo || x.count !== e.count || x.bytes.length !== e.bytes.length) continue;
    if (compareRange(x.bytes, e.bytes, e.bytes.length) === 0) return i;
  }
  return -1;
}

/** Encodes, interns and decodes the envelopes of one protocol's worlds. */
export class Envelopes {
  /** The writer the last `encode*` call wrote the envelope into (valid until the next one). */
  readonly writer = new Writer(256);
  private readonly table: (Envelope | undefined)[] = new Array(INTERN_SIZE);
  private readonly lanes = new Int32Array(2);
  private readonly reader = new Reader(new Uint8Array(0));
  private readonly payloadReader = new Reader(new Uint8Array(0));

  constructor(private readonly layout: Layout) {}

  /** The schema of an envelope's payload: a protocol message, a client request or a reply. */
  payloadSchema(channel: number): Schema<any> {
    if (channel === CHANNEL.message) return this.layout.protocol.messages;
    const clients = this.layout.clients;
    if (!clients) throw new Error(`Envelopes.payloadSchema: channel ${channel} without clients`);
    return channel === CHANNEL.request ? clients.request : clients.reply;
  }

  /** Writes a protocol message envelope into {@link writer}; returns its length. */
  encodeMessage(from: NodeId, to: NodeId, msg: unknown): number {
    const w = this.header(from, to, CHANNEL.message);
    try {
      this.layout.protocol.messages.encode(w, msg as never, 'message');
    } catch (e) {
      throw new HandlerError(`${this.layout.nodeName(from)} sent a message that does not fit the message schema: ${(e as Error).message}`, e, from);
    }
    return w.pos;
  }

  /** Writes a client request envelope into {@link writer}; returns its length. */
  encodeRequest(client: NodeId, to: NodeId, id: number, op: unknown): number {
    const w = this.header(client, to, CHANNEL.request);
    this.layout.clients!.request.encode(w, { id, op }, 'request');
    return w.pos;
  }

  /** Writes a reply envelope into {@link writer}; returns its length. */
  encodeReply(from: NodeId, client: NodeId, id: number, result: unknown): number {
    const w = this.header(from, client, CHANNEL.reply);
    try {
      this.layout.clients!.reply.encode(w, { id, result }, 'reply');
    } catch (e) {
      throw new HandlerError(`${this.layout.nodeName(from)} replied with a result that does not fit the result schema: ${(e as Error).message}`, e, from);
    }
    return w.pos;
  }

  private header(from: NodeId, to: NodeId, channel: number): Writer {
    const w = this.writer.reset();
    w.varint(from);
    w.varint(to);
    w.u8(channel);
    return w;
  }

  /** The largest payload of any envelope made so far, in bytes (the message-size invariant's shortcut). */
  largestPayloadBytes = 0;

  /** The interned envelope for these record bytes (`buf[start..start+len)`) and count. */
  intern(buf: Uint8Array, start: number, len: number, count: number): Envelope {
    const h = this.lanes;
    hash64(buf, start, len, count, h);
    const slot = (h[0]! ^ (h[1]! >>> 7)) & (INTERN_SIZE - 1);
    const e = this.table[slot];
    if (e !== undefined && e.count === count && e.hHi === h[0] && e.hLo === h[1] && e.bytes.length === len) {
      const b = e.bytes;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (b[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return e;
    }
    const bytes = buf.slice(start, start + len);
    const r = this.reader.reset(bytes);
    const from = r.varint();
    const to = r.varint();
    const channel = r.u8();
    if (len - r.pos > this.largestPayloadBytes) this.largestPayloadBytes = len - r.pos;
    const made: Envelope = { bytes, from, to, channel, count, hHi: h[0]!, hLo: h[1]!, payload: undefined, outcomes: null, lastState: undefined, lastOutcome: null };
    this.table[slot] = made;
    return made;
  }

  /** The envelope with these bytes and count (interned). */
  fresh(bytes: Uint8Array, count: number): Envelope {
    return this.intern(bytes, 0, bytes.length, count);
  }

  /** `e` with `count` copies (interned). */
  recount(e: Envelope, count: number): Envelope {
    return this.intern(e.bytes, 0, e.bytes.length, count);
  }

  /** The payload an envelope carries (a message; `{ id, op }` or `{ id, result }` for clients). */
  payload(e: Envelope): unknown {
    if (e.payload !== undefined) return e.payload;
    const r = this.payloadReader.reset(e.bytes);
    r.varint();
    r.varint();
    r.u8();
    const payload = this.payloadSchema(e.channel).decode(r);
    if (r.pos !== e.bytes.length) throw new DecodeError('trailing bytes after a message', r.pos);
    e.payload = payload;
    return payload;
  }

  /** A payload as trace JSON; client traffic is shown as `request` and `reply` messages. */
  payloadJSON(e: Envelope): unknown {
    const payload = this.payload(e);
    if (e.channel === CHANNEL.message) return this.layout.protocol.messages.toJSON(payload);
    const json = this.payloadSchema(e.channel).toJSON(payload) as { id: number; op?: unknown; result?: unknown };
    return e.channel === CHANNEL.request ? { kind: 'request', id: json.id, op: json.op } : { kind: 'reply', id: json.id, result: json.result };
  }
}
