/**
 * Network benchmark: frames/s and MB/s through the packed network (memory, udp and tcp transports on
 * loopback) and round-trips/s of a request-reply exchange, next to a plain JSON-over-socket baseline
 * (JSON.stringify, newline-delimited, over udp and tcp) measured in the same run.
 *
 *   npx tsx bench/network.ts                     (about 25 s)
 *   npx tsx bench/network.ts --quick             (one short run per figure, noisier)
 *   npx tsx bench/network.ts --only "packed udp" (one variant, e.g. under --cpu-prof)
 *
 * Method. Both endpoints live in this one process and share its event loop, for every variant alike.
 * Throughput: node A sends payloads to B under a window of 256 unacknowledged messages; B acknowledges
 * every 32 with a small message carrying its count (over the same transport), so no variant wins by
 * overflowing kernel buffers; a stalled window (UDP loss) is forgiven after 20 ms. Reported: messages
 * B received per second, and their payload MB/s (10^6 bytes). Round trips: one request outstanding at a
 * time, B echoes the payload. Every figure is the median of 3 runs interleaved across variants. The baseline carries the same fields (from, to, kind, seq, payload as
 * base64) as one JSON object per datagram or line, and decodes the payload back to bytes; it has no
 * authentication and no batching, which the packed network pays for and gains from.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { createHmac } from 'node:crypto';
import { MemoryNetwork, udpTransport, tcpTransport, FrameCodec, decodeDatagram, type Transport, type NetTransport } from '../impl/net/index.ts';
import { HmacSha256 } from '../impl/net/hmacSha256.ts';
import { systemClock } from '../impl/clock/index.ts';

const quick = process.argv.includes('--quick');
/** `--only "packed udp"` runs one variant (for profiling). */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const throughputMs = quick ? 150 : 400;
const roundTripMs = quick ? 150 : 400;
const warmupMs = quick ? 50 : 100;
/** Each figure is the median of this many runs, interleaved across variants so load drifts hit all alike. */
const repeats = quick ? 1 : 3;
const windowMessages = 256;
const ackEvery = 32;
const KIND = { data: 1, ack: 2, request: 3, reply: 4 } as const;
const key = Buffer.alloc(32, 0x5a);
const clusterId = 1;

/** One side of a two-node exchange. */
interface Endpoint {
  send(kind: number, payload: Buffer): void;
  onMessage(fn: (kind: number, payload: Buffer) => void): void;
  /** Datagrams or writes that carried the messages, when the variant knows. */
  packets?(): number;
}

interface Pair {
  readonly name: string;
  readonly a: Endpoint;
  readonly b: Endpoint;
  close(): Promise<void>;
}

function packedEndpoint(t: Transport, peer: number): Endpoint {
  return {
    send: (kind, payload) => t.send(peer, kind, payload),
    onMessage: (fn) => void t.onFrame((f) => fn(f.kind, f.payload)),
    packets: () => t.stats.packetsSent,
  };
}

async function packedMemory(): Promise<Pair> {
  const network = new MemoryNetwork({ clusterId, key, seed: 1, clock: systemClock() });
  const a = network.transport(1);
  const b = network.transport(2);
  return { name: 'packed memory', a: packedEndpoint(a, 2), b: packedEndpoint(b, 1), close: async () => void (await Promise.all([a.close(), b.close()])) };
}

async function packedNet(kind: 'udp' | 'tcp'): Promise<Pair> {
  const make = (self: number): Promise<NetTransport> =>
    kind === 'udp' ? udpTransport({ self, clusterId, key, receiveBufferBytes: 4 << 20 }) : tcpTransport({ self, clusterId, key });
  const a = await make(1);
  const b = await make(2);
  a.setPeer(2, b.address);
  b.setPeer(1, a.address);
  return { name: `packed ${kind}`, a: packedEndpoint(a, 2), b: packedEndpoint(b, 1), close: async () => void (await Promise.all([a.close(), b.close()])) };
}

interface JsonMessage {
  from: number;
  to: number;
  kind: number;
  seq: number;
  payload: string;
}

function jsonSender(self: number, peer: number, write: (line: string) => void): Endpoint['send'] {
  let seq = 0;
  return (kind, payload) => {
    const m: JsonMessage = { from: self, to: peer, kind, seq: seq++, payload: payload.toString('base64') };
    write(JSON.stringify(m) + '\n');
  };
}

function jsonDeliver(line: string, fn: (kind: number, payload: Buffer) => void): void {
  const m = JSON.parse(line) as JsonMessage;
  fn(m.kind, Buffer.from(m.payload, 'base64'));
}

async function jsonUdp(): Promise<Pair> {
  const bind = (): Promise<UdpSocket> =>
    new Promise((resolve) => {
      const s = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
      s.bind(0, '127.0.0.1', () => resolve(s));
    });
  const sa = await bind();
  const sb = await bind();
  const endpoint = (self: number, peer: number, s: UdpSocket, to: UdpSocket): Endpoint => {
    const port = to.address().port;
    let packets = 0;
    return {
      send: jsonSender(self, peer, (line) => {
        packets++;
        s.send(line, port, '127.0.0.1');
      }),
      onMessage: (fn) => void s.on('message', (msg) => jsonDeliver(msg.toString('utf8'), fn)),
      packets: () => packets,
    };
  };
  return {
    name: 'json udp',
    a: endpoint(1, 2, sa, sb),
    b: endpoint(2, 1, sb, sa),
    close: async () => void (await Promise.all([sa, sb].map((s) => new Promise<void>((r) => s.close(() => r()))))),
  };
}

async function jsonTcp(): Promise<Pair> {
  let accepted!: (s: Socket) => void;
  const serverSide = new Promise<Socket>((resolve) => (accepted = resolve));
  const server = createServer({ noDelay: true }, (s) => accepted(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  const client = connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const sb = await serverSide;
  const endpoint = (self: number, peer: number, s: Socket): Endpoint => {
    let packets = 0;
    return {
      send: jsonSender(self, peer, (line) => {
        packets++;
        s.write(line);
      }),
      onMessage: (fn) => {
        let carry = '';
        s.setEncoding('utf8');
        s.on('data', (chunk: string) => {
          const lines = (carry + chunk).split('\n');
          carry = lines.pop()!;
          for (const line of lines) jsonDeliver(line, fn);
        });
      },
      packets: () => packets,
    };
  };
  return {
    name: 'json tcp',
    a: endpoint(1, 2, client),
    b: endpoint(2, 1, sb),
    close: async () => {
      client.destroy();
      sb.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface Throughput {
  messagesPerSecond: number;
  megabytesPerSecond: number;
  lossPercent: number;
  messagesPerPacket: number;
}

/** One-way flow A → B under a window; see the file comment. */
async function throughput(pair: Pair, payloadBytes: number): Promise<Throughput> {
  const payload = Buffer.alloc(payloadBytes, 0xab);
  let sent = 0;
  let received = 0;
  let acked = 0;
  let forgiven = 0;
  let lastProgressMs = performance.now();
  let running = true;
  pair.b.onMessage((kind) => {
    if (kind !== KIND.data) return;
    received++;
    if (received % ackEvery === 0) {
      const ack = Buffer.alloc(4);
      ack.writeUInt32BE(received);
      pair.b.send(KIND.ack, ack);
    }
  });
  const pump = (): void => {
    let burst = 0;
    // Bounded bursts keep the loop turning, so acks and deliveries interleave with sends.
    while (running && sent - acked - forgiven < windowMessages && burst < 64) {
      pair.a.send(KIND.data, payload);
      sent++;
      burst++;
    }
  };
  pair.a.onMessage((kind, p) => {
    if (kind !== KIND.ack) return;
    acked = Math.max(acked, p.readUInt32BE(0));
    lastProgressMs = performance.now();
    pump();
  });
  const watchdog = setInterval(() => {
    if (performance.now() - lastProgressMs > 20) {
      forgiven = sent - acked; // the window is stuck on lost messages or a partial batch
      lastProgressMs = performance.now();
    }
    pump();
  }, 5);
  pump();
  await sleep(warmupMs);
  const startReceived = received;
  const startSent = sent;
  const startPackets = pair.a.packets?.() ?? 0;
  const t0 = performance.now();
  await sleep(throughputMs);
  const seconds = (performance.now() - t0) / 1000;
  const got = received - startReceived;
  const put = sent - startSent;
  const packets = (pair.a.packets?.() ?? 0) - startPackets;
  running = false;
  clearInterval(watchdog);
  // Let what is in flight land before counting losses.
  await sleep(50);
  return {
    messagesPerSecond: got / seconds,
    megabytesPerSecond: (got * payloadBytes) / seconds / 1e6,
    lossPercent: sent > 0 ? (100 * (sent - received)) / sent : 0,
    // Acks share the sender's counters on packed transports; they are 1/32 of the messages.
    messagesPerPacket: packets > 0 ? put / packets : Number.NaN,
  };
}

/** Request-reply with one request outstanding. */
async function roundTrips(pair: Pair, payloadBytes: number): Promise<number> {
  const payload = Buffer.alloc(payloadBytes, 0xcd);
  let done = 0;
  let running = true;
  pair.b.onMessage((kind, p) => {
    if (kind === KIND.request) pair.b.send(KIND.reply, p);
  });
  let lastReplyMs = performance.now();
  pair.a.onMessage((kind) => {
    if (kind !== KIND.reply || !running) return;
    done++;
    lastReplyMs = performance.now();
    pair.a.send(KIND.request, payload);
  });
  // A lost UDP request or reply would stop the ping-pong: re-send after 20 ms of silence.
  const watchdog = setInterval(() => {
    if (running && performance.now() - lastReplyMs > 20) {
      lastReplyMs = performance.now();
      pair.a.send(KIND.request, payload);
    }
  }, 10);
  pair.a.send(KIND.request, payload);
  await sleep(warmupMs);
  const start = done;
  const t0 = performance.now();
  await sleep(roundTripMs);
  const rate = (done - start) / ((performance.now() - t0) / 1000);
  running = false;
  clearInterval(watchdog);
  await sleep(30);
  return rate;
}

/** Mean µs per call of `fn` over `ms` of calls, after a short warm-up. */
function microseconds(fn: () => void, ms: number): number {
  for (let i = 0; i < 2000; i++) fn();
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 200; i++) fn();
    calls += 200;
    t = performance.now();
  }
  return ((t - t0) * 1000) / calls;
}

/** CPU cost per message of the codecs alone, no I/O: packed encode + decode vs JSON round trip. */
function codecCosts(): string[][] {
  const codec = new FrameCodec({ clusterId, key });
  const hmac = new HmacSha256(key);
  const rows: string[][] = [];
  const ms = quick ? 100 : 200;
  for (const size of [64, 1024]) {
    const payload = Buffer.alloc(size, 0x3c);
    const frame = codec.encode({ kind: 1, from: 1, to: 2, seq: 1 }, payload);
    const packed = microseconds(() => void decodeDatagram(codec, codec.encode({ kind: 1, from: 1, to: 2, seq: 1 }, payload)), ms);
    const json = microseconds(() => {
      const line = JSON.stringify({ from: 1, to: 2, kind: 1, seq: 1, payload: payload.toString('base64') } satisfies JsonMessage) + '\n';
      const m = JSON.parse(line) as JsonMessage;
      Buffer.from(m.payload, 'base64');
    }, ms);
    const body = frame.length - 16;
    const tagJs = microseconds(() => void hmac.digest(frame, 0, body), ms);
    const tagNative = microseconds(() => void createHmac('sha256', key).update(frame.subarray(0, body)).digest(), ms);
    rows.push([`${size}`, fmt(packed, 2), fmt(json, 2), fmt(tagJs, 2), fmt(tagNative, 2)]);
  }
  return rows;
}

/** The run with the median value of `by`. */
function median<T>(runs: T[], by: (r: T) => number): T {
  return [...runs].sort((a, b) => by(a) - by(b))[Math.floor(runs.length / 2)]!;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  return [line(headers), '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 1) + '-|' : '-'.repeat(w + 1) + ':|')).join(''), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  const variants: { make: () => Promise<Pair> }[] = [
    { make: packedMemory },
    { make: () => packedNet('udp') },
    { make: () => packedNet('tcp') },
    { make: jsonUdp },
    { make: jsonTcp },
  ];
  const sizes = [64, 1024];
  const tputRuns = new Map<string, Throughput[]>();
  const rttRuns = new Map<string, number[]>();
  const push = <T,>(m: Map<string, T[]>, k: string, v: T): void => void (m.get(k) ?? m.set(k, []).get(k)!).push(v);
  for (let rep = 0; rep < repeats; rep++) {
    for (const size of sizes) {
      for (const v of variants) {
        const pair = await v.make();
        if (!only || pair.name === only) push(tputRuns, `${pair.name}/${size}`, await throughput(pair, size));
        await pair.close();
      }
    }
    for (const v of variants) {
      const pair = await v.make();
      if (!only || pair.name === only) push(rttRuns, pair.name, await roundTrips(pair, 64));
      await pair.close();
    }
  }
  const tput = new Map([...tputRuns].map(([k, runs]) => [k, median(runs, (r) => r.messagesPerSecond)]));
  const rtt = new Map([...rttRuns].map(([k, runs]) => [k, median(runs, (r) => r)]));

  const names = ['packed memory', 'packed udp', 'packed tcp', 'json udp', 'json tcp'].filter((n) => !only || n === only);
  const baselineOf: Record<string, string> = { 'packed udp': 'json udp', 'packed tcp': 'json tcp' };
  console.log(
    `pacta network benchmark — node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs, loopback, one process; ` +
      `median of ${repeats} interleaved run(s) of ${throughputMs} ms${quick ? ' (--quick)' : ''}\n`,
  );
  const rows: string[][] = [];
  for (const size of sizes) {
    for (const name of names) {
      const r = tput.get(`${name}/${size}`)!;
      const base = baselineOf[name] ? tput.get(`${baselineOf[name]}/${size}`) : undefined;
      rows.push([
        name,
        `${size}`,
        fmt(r.messagesPerSecond),
        fmt(r.megabytesPerSecond, 1),
        fmt(r.messagesPerPacket, 1),
        fmt(r.lossPercent, 1),
        base ? `${fmt(r.messagesPerSecond / base.messagesPerSecond, 2)}×` : '',
      ]);
    }
  }
  console.log('One-way throughput (window 256, ack every 32):');
  console.log(table(['variant', 'payload B', 'msgs/s', 'payload MB/s', 'msgs/packet', 'loss %', 'vs JSON'], rows));
  console.log('\nRequest-reply, 64 B payload, one request outstanding:');
  console.log(
    table(
      ['variant', 'round trips/s', 'µs each', 'vs JSON'],
      names.map((name) => {
        const r = rtt.get(name)!;
        const base = baselineOf[name] ? rtt.get(baselineOf[name]!) : undefined;
        return [name, fmt(r), fmt(1e6 / r, 1), base ? `${fmt(r / base, 2)}×` : ''];
      }),
    ),
  );
  if (!only) {
    console.log('\nCodec CPU per message, no I/O (µs): packed encode + decode, JSON stringify + parse (+ base64), and one tag:');
    console.log(table(['payload B', 'packed', 'json', 'tag: pacta HMAC', 'tag: node:crypto'], codecCosts()));
  }
  console.log(`\nTotal ${fmt((performance.now() - started) / 1000, 1)} s.`);
}

await main();
