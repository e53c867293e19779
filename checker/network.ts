/**
 * The three network kinds, each one object that owns all of its rules: which messages can be
 * delivered, what a delivery leaves behind, whether loss and duplication apply, and where a
 * sent message goes. Networks are immutable sorted (set, bag) or link-grouped (fifo) arrays of
 * interned envelopes, so equal networks pack to equal bytes.
 *
 * - `set`: a message once sent stays deliverable forever, any number of times, in any order
 *   (TLA+'s `msgs` set); sending it again changes nothing. No loss or duplication (a set
 *   network already allows every such schedule).
 * - `bag`: a multiset; a delivery consumes one copy; `drop` loses a copy, `dup` delivers one and
 *   leaves it in flight.
 * - `fifo`: per-link queues; only the head of each link (from, to) can be delivered or dropped.
 */
import type { NodeId } from '../specs/core/schema.ts';
import { compareRange, type Envelopes } from './envelopes.ts';
import type { Envelope, NetworkMode, WorldOptions } from './world-state.ts';

export abstract class Network {
  abstract readonly mode: NetworkMode;
  /** Messages may be lost (`drop` events). */
  readonly drop: boolean;
  /** Messages may be delivered and stay in flight (`duplicate` events). */
  readonly dup: boolean;
  /** The packed network carries each envelope's copy count (bag). */
  readonly counted: boolean = false;

  constructor(
    protected readonly envelopes: Envelopes,
    options: WorldOptions,
  ) {
    this.drop = options.drop;
    this.dup = options.dup;
  }

  /** Whether envelope `i` can be delivered (or dropped) now, as far as the network goes. */
  head(_net: readonly Envelope[], _i: number): boolean {
    return true;
  }

  /** The network after envelope `i` was delivered. */
  abstract afterDelivery(net: Envelope[], i: number): Envelope[];

  /**
   * `net` with one more envelope, whose bytes are `buf[0..len)`. `mustCopy`: `net` is shared and
   * must not be changed in place. Returns `net` itself when a set network already holds it.
   */
  abstract add(net: Envelope[], buf: Uint8Array, len: number, from: NodeId, to: NodeId, mustCopy: boolean): Envelope[];

  /** `net` with one copy of envelope `i` removed (a bag or FIFO delivery; a loss). */
  consume(net: readonly Envelope[], i: number): Envelope[] {
    const e = net[i]!;
    const out = net.slice();
    if (e.count > 1) out[i] = this.envelopes.recount(e, e.count - 1);
    else out.splice(i, 1);
    return out;
  }

  /** Messages in flight, copies counted. */
  inFlight(net: readonly Envelope[]): number {
    let n = 0;
    for (let i = 0; i < net.length; i++) n += net[i]!.count;
    return n;
  }

  /** The network rules for `options.network`. */
  static of(envelopes: Envelopes, options: WorldOptions): Network {
    switch (options.network) {
      case 'set':
        return new SetNetwork(envelopes, options);
      case 'bag':
        return new BagNetwork(envelopes, options);
      case 'fifo':
        return new FifoNetwork(envelopes, options);
    }
  }
}

/**
 * Where `buf[0..len)` sorts in `net` (sorted by bytes): its index when present, else
 * `-(insertion point) - 1` (a number, not an object: this runs for every message sent).
 */
function search(net: readonly Envelope[], buf: Uint8Array, len: number): number {
  let lo = 0;
  let hi = net.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareRange(net[mid]!.bytes, buf, len);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -lo - 1;
}

class SetNetwork extends Network {
  readonly mode = 'set';

  override afterDelivery(net: Envelope[]): Envelope[] {
    return net;
  }

  override add(net: Envelope[], buf: Uint8Array, len: number, _from: NodeId, _to: NodeId, mustCopy: boolean): Envelope[] {
    const at = search(net, buf, len);
    if (at >= 0) return net;
    const out = mustCopy ? net.slice() : net;
    out.splice(-at - 1, 0, this.envelopes.intern(buf, 0, len, 1));
    return out;
  }
}

class BagNetwork extends Network {
  readonly mode = 'bag';
  override readonly counted = true;

  override afterDelivery(net: Envelope[], i: number): Envelope[] {
    return this.consume(net, i);
  }

  override add(net: Envelope[], buf: Uint8Array, len: number, _from: NodeId, _to: NodeId, mustCopy: boolean): Envelope[] {
    const at = search(net, buf, len);
    const out = mustCopy ? net.slice() : net;
    if (at >= 0) out[at] = this.envelopes.recount(net[at]!, net[at]!.count + 1);
    else out.splice(-at - 1, 0, this.envelopes.intern(buf, 0, len, 1));
    return out;
  }
}

class FifoNetwork extends Network {
  readonly mode = 'fifo';

  /** Only the head of each link: the first envelope of its (from, to) run. */
  override head(net: readonly Envelope[], i: number): boolean {
    return i === 0 || net[i - 1]!.from !== net[i]!.from || net[i - 1]!.to !== net[i]!.to;
  }

  override afterDelivery(net: Envelope[], i: number): Envelope[] {
    return this.consume(net, i);
  }

  /** After the last envelope of the same link, else before the first link that sorts after it. */
  override add(net: Envelope[], buf: Uint8Array, len: number, from: NodeId, to: NodeId, mustCopy: boolean): Envelope[] {
    let at = net.length;
    for (let i = 0; i < net.length; i++) {
      const e = net[i]!;
      if (e.from > from || (e.from === from && e.to > to)) {
        at = i;
        break;
      }
    }
    const out = mustCopy ? net.slice() : net;
    out.splice(at, 0, this.envelopes.intern(buf, 0, len, 1));
    return out;
  }
}
