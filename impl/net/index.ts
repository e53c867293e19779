/** Packed-buffer network: authenticated frames, their decoders, and the transports. */
export {
  FrameCodec,
  FRAME_VERSION,
  FRAME_HEADER_BYTES,
  FRAME_TAG_BYTES,
  FRAME_OVERHEAD_BYTES,
  FRAME_BYTES_MAX_DEFAULT,
  CLUSTER_KEY_BYTES_MIN,
  type Frame,
  type FrameHeader,
  type FrameCodecOptions,
  type NodeId,
  type ParsedHeader,
} from './frame.ts';
export { FrameError, FRAME_ERROR_CODES, type FrameErrorCode } from './frameError.ts';
export { FrameStreamDecoder, type FrameResult } from './frameStreamDecoder.ts';
export { decodeDatagram } from './datagram.ts';
export { DROP_REASONS, type DropReason, type FrameHandler, type Transport, type TransportStats } from './transport.ts';
export type { NetTransport, PeerAddress, PeerTable } from './peers.ts';
export { MemoryNetwork, type MemoryFaults, type MemoryNetworkOptions, type InFlightFrame } from './memoryNetwork.ts';
export { udpTransport, UDP_DATAGRAM_BYTES_MAX, UDP_BATCH_BYTES_DEFAULT, type UdpTransportOptions } from './udpTransport.ts';
export { tcpTransport, encodeHello, HELLO_KIND, HELLO_BYTES_MAX, type TcpTransportOptions, type TcpTlsOptions } from './tcpTransport.ts';
export { ReplayGuard, SeqClock, SEQ_PER_MS, type ReplayGuardOptions } from './replayGuard.ts';
export { xoshiro128ss, type Prng } from './prng.ts';
export { UsageError } from './usageError.ts';
