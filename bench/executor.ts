/**
 * Executor benchmark: client round trips per second through the node runtime — a request-reply
 * spec (`echo`: the server answers each request with its payload, no durable state) and a durable
 * write (`register`: each write changes the server's durable state, and the reply leaves once it
 * is flushed with fdatasync; concurrent writes share a flush) — on the memory, udp and tcp
 * transports, next to a plain JSON-over-socket echo server and client measured in the same run.
 *
 *   npx tsx bench/executor.ts            (about 30 s)
 *   npx tsx bench/executor.ts --quick    (one short run per figure, noisier)
 *
 * Method. Everything lives in this one process and shares its event loop, for every variant
 * alike. One client issues one request at a time (latency-bound round trips), then 8 clients
 * issue concurrently (throughput); a figure is the number of completed calls per second over the
 * measured window, after a warm-up. Each figure is the median of 3 runs, interleaved across
 * variants so that load drifts on the shared machine hit all alike. The runtime path pays for
 * what the baseline does not do: the spec's handler and schema checks, the packed codec, frame
 * authentication (HMAC), the client's history recording and timeout timer. The baseline sends
 * `{ id, op }` as one JSON object per datagram (udp) or line (tcp) and the server answers
 * `{ id, result }` with the op's payload, with no authentication, history or timers.
 */
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { startCluster, type Cluster } from '../impl/index.ts';
import { protocol, t } from '../specs/core/index.ts';

const quick = process.argv.includes('--quick');
const measureMs = quick ? 300 : 1000;
const warmupMs = quick ? 100 : 200;
const repeats = quick ? 1 : 3;
const payload = 'x'.repeat(64);

// ---------------------------------------------------------------- the request-reply spec

const Op = t.struct({ payload: t.string });
const Result = t.struct({ payload: t.string });
const echoHead = protocol({ name: 'echo', params: {}, messages: t.union('kind', { none: {} }), client: { op: Op, result: Result } });
const echo = echoHead.define({
  roles: {
    server: echoHead.role(t.unit)({
      count: 1,
      init: () => ({}),
      onRequest: (s, req, out) => {
        out.reply({ payload: req.op.payload });
        return s;
      },
    }),
  },
  clients: { count: 1, target: 'server', ops: () => [{ payload: 'x' }], opsPerClient: 1 },
});

/** A durable register: every write is flushed before its reply leaves. */
const registerHead = protocol({ name: 'register', params: {}, messages: t.union('kind', { none: {} }), client: { op: Op, result: t.u32 } });
const register = registerHead.define({
  roles: {
    server: registerHead.role(t.struct({ value: t.string, writes: t.u32 }))({
      count: 1,
      durable: true,
      init: () => ({ value: '', writes: 0 }),
      onRequest: (s, req, out) => {
        out.reply(s.writes + 1);
        return { value: req.op.payload, writes: s.writes + 1 };
      },
    }),
  },
  clients: { count: 1, target: 'server', ops: () => [{ payload: 'x' }], opsPerClient: 1 },
});

// ---------------------------------------------------------------- variants

interface Caller {
  /** One call; resolves when its reply arrived. */
  call(client: number): Promise<void>;
  close(): Promise<void>;
}

type Variant = { name: string; spec: 'echo' | 'durable write'; make: (clients: number) => Promise<Caller> };

function runtime(transport: 'memory' | 'udp' | 'tcp', spec: 'echo' | 'durable write'): Variant {
  return {
    name: `runtime ${transport}`,
    spec,
    make: async (clients) => {
      let cluster: Cluster<any, any>;
      let dataDir: string | undefined;
      if (spec === 'echo') {
        cluster = await startCluster(echo, { transport, clients, syncMode: 'none' });
      } else {
        dataDir = await mkdtemp(join(tmpdir(), 'pacta-bench-'));
        cluster = await startCluster(register, { transport, clients, dataDir, syncMode: 'datasync' });
      }
      return {
        call: async (k) => {
          await cluster.client(k).invoke({ payload });
        },
        close: async () => {
          await cluster.close();
          if (dataDir) await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** Plain JSON echo over UDP: one object per datagram, no authentication. */
const jsonUdp: Variant = {
  name: 'json udp',
  spec: 'echo',
  make: async (clients) => {
    const server = createSocket('udp4');
    server.on('message', (msg, rinfo) => {
      const req = JSON.parse(msg.toString()) as { id: number; op: { payload: string } };
      server.send(JSON.stringify({ id: req.id, result: { payload: req.op.payload } }), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    const port = server.address().port;
    const sockets = await Promise.all(
      Array.from({ length: clients }, async () => {
        const s = createSocket('udp4');
        await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
        let next = 0;
        let waiting: { id: number; resolve: () => void } | undefined;
        s.on('message', (msg) => {
          const rep = JSON.parse(msg.toString()) as { id: number; result: { payload: string } };
          if (waiting && rep.id === waiting.id) {
            const w = waiting;
            waiting = undefined;
            w.resolve();
          }
        });
        return {
          s,
          call: () =>
            new Promise<void>((resolve) => {
              const id = next++;
              waiting = { id, resolve };
              s.send(JSON.stringify({ id, op: { payload } }), port, '127.0.0.1');
            }),
        };
      }),
    );
    return {
      call: (k) => sockets[k]!.call(),
      close: async () => {
        for (const c of sockets) c.s.close();
        server.close();
      },
    };
  },
};

/** Plain JSON echo over TCP: newline-delimited objects, one connection per client. */
const jsonTcp: Variant = {
  name: 'json tcp',
  spec: 'echo',
  make: async (clients) => {
    const server = createServer((sock) => {
      sock.setNoDelay(true);
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const req = JSON.parse(buf.slice(0, nl)) as { id: number; op: { payload: string } };
          buf = buf.slice(nl + 1);
          sock.write(`${JSON.stringify({ id: req.id, result: { payload: req.op.payload } })}\n`);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const conns = await Promise.all(
      Array.from({ length: clients }, async () => {
        const s = connect(port, '127.0.0.1');
        s.setNoDelay(true);
        await new Promise<void>((r) => s.once('connect', () => r()));
        let buf = '';
        let next = 0;
        let waiting: { id: number; resolve: () => void } | undefined;
        s.on('data', (d) => {
          buf += d.toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const rep = JSON.parse(buf.slice(0, nl)) as { id: number };
            buf = buf.slice(nl + 1);
            if (waiting && rep.id === waiting.id) {
              const w = waiting;
              waiting = undefined;
              w.resolve();
            }
          }
        });
        return {
          s,
          call: () =>
            new Promise<void>((resolve) => {
              const id = next++;
              waiting = { id, resolve };
              s.write(`${JSON.stringify({ id, op: { payload } })}\n`);
            }),
        };
      }),
    );
    return {
      call: (k) => conns[k]!.call(),
      close: async () => {
        for (const c of conns) c.s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      },
    };
  },
};

// ---------------------------------------------------------------- measuring

/** Calls completed per second by `clients` clients, each with one call outstanding. */
async function measure(v: Variant, clients: number): Promise<number> {
  const caller = await v.make(clients);
  try {
    let done = 0;
    let counting = false;
    let stop = false;
    const loops = Array.from({ length: clients }, async (_, k) => {
      while (!stop) {
        await caller.call(k);
        if (counting) done++;
      }
    });
    await sleep(warmupMs);
    counting = true;
    const start = performance.now();
    await sleep(measureMs);
    counting = false;
    const seconds = (performance.now() - start) / 1000;
    stop = true;
    await Promise.all(loops);
    return done / seconds;
  } finally {
    await caller.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  console.log(`executor benchmark: Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs, ${quick ? 'quick' : `median of ${repeats}`} (${measureMs} ms windows)`);
  const variants: Variant[] = [
    runtime('memory', 'echo'), runtime('udp', 'echo'), runtime('tcp', 'echo'), jsonUdp, jsonTcp,
    runtime('memory', 'durable write'), runtime('udp', 'durable write'), runtime('tcp', 'durable write'),
  ];
  const rows: string[][] = [];
  for (const clients of [1, 8]) {
    const runs = new Map<Variant, number[]>(variants.map((v) => [v, []]));
    for (let r = 0; r < repeats; r++) for (const v of variants) runs.get(v)!.push(await measure(v, clients));
    const fig = new Map(variants.map((v) => [v, median(runs.get(v)!)]));
    const json = (transport: string) => fig.get(transport === 'udp' ? jsonUdp : jsonTcp)!;
    for (const v of variants) {
      const rate = fig.get(v)!;
      const transport = v.name.split(' ')[1]!;
      const vs = v.name.startsWith('runtime') && v.spec === 'echo' && transport !== 'memory' ? `${(rate / json(transport)).toFixed(2)}×` : '';
      rows.push([v.name, v.spec, `${clients}`, Math.round(rate).toLocaleString('en-US'), (1e6 / rate * clients).toFixed(1), vs]);
    }
  }
  console.log('\nClient round trips through the node runtime, 64 B payload; µs each = per call, per client:');
  console.log(table(['variant', 'spec', 'clients', 'calls/s', 'µs each', 'vs JSON'], rows));
}

await main();
