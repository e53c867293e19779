import { isIP } from 'node:net';
import type { NodeId } from './frame.ts';
import type { Transport } from './transport.ts';
import { UsageError, requireInt } from './usageError.ts';

/** Where a node listens. Use an IP address: a host name would be resolved on every send. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** Node ids and their addresses, as a Map, an array of pairs, or an object keyed by id. */
export type PeerTable = ReadonlyMap<NodeId, PeerAddress> | Iterable<readonly [NodeId, PeerAddress]> | Readonly<Record<number, PeerAddress>>;

/** A transport over sockets: it has an address of its own and a table of peers. */
export interface NetTransport extends Transport {
  /** The address it is bound to (the real port when bound to port 0). */
  readonly address: PeerAddress;
  /** Adds or changes a peer's address (e.g. once ephemeral ports are known). */
  setPeer(id: NodeId, address: PeerAddress): void;
}

/** Validates a peer table into a Map. */
export function peerMap(fn: string, peers: PeerTable | undefined): Map<NodeId, PeerAddress> {
  const map = new Map<NodeId, PeerAddress>();
  if (peers === undefined) return map;
  const entries: Iterable<readonly [NodeId | string, PeerAddress]> =
    Symbol.iterator in Object(peers) ? (peers as Iterable<readonly [NodeId, PeerAddress]>) : Object.entries(peers);
  for (const [id, address] of entries) {
    const nodeId = Number(id);
    checkPeer(fn, nodeId, address);
    map.set(nodeId, { host: address.host, port: address.port });
  }
  return map;
}

/** Throws a `UsageError` unless `id` is a node id and `address` a usable IP address and port. */
export function checkPeer(fn: string, id: NodeId, address: PeerAddress): void {
  requireInt(fn, 'nodeId', id, 0, 0xffff_ffff);
  if (typeof address !== 'object' || address === null || typeof address.host !== 'string' || address.host.length === 0) {
    throw new UsageError(fn, 'bad-peer', `peer ${id} needs { host, port }`);
  }
  requireInt(fn, 'port', address.port, 1, 65535);
}

/** Whether `host` is an IPv6 literal (the socket family follows the bind address). */
export function isIPv6(host: string): boolean {
  return isIP(host) === 6;
}
