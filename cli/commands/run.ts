/**
 * `pacta run SPEC --node I --peers host:port,... --key HEX --data DIR`: runs one node of a
 * cluster in this process over udp or tcp (one process per node, across machines if the
 * addresses say so), printing its address and its events until Ctrl-C. With the id of a
 * client it sends operations instead and prints their results.
 */
import { lookup } from 'node:dns/promises';
import { readFile, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseParam } from '../../checker/options.ts';
import { ClusterLayout, connectClient, InvokeTimeout, startNode, type NodeEvent, type PeerAddress } from '../../impl/index.ts';
import { resolveClusterParams } from '../../impl/layout.ts';
import type { ParamValue } from '../../specs/core/index.ts';
import { Exit, UsageError, type CliIO } from '../io.ts';
import { loadSpec } from '../load-spec.ts';
import { parseCommandArgs } from '../args.ts';
import { makeOutputDir } from '../output-dir.ts';

export const runUsage = `usage: pacta run <spec> --node I --peers ADDR,ADDR,... --key-file FILE [--data DIR] [options]

  Runs node I of a cluster of <spec> in this process. --peers lists every member's host:port by
  node id: the protocol's nodes in role order, then the clients (see 'pacta run <spec> --layout').
  A protocol node prints its address and its events, and takes commands on stdin:
    fire ACTION [ARG_JSON]   run a local action (actions without timerMs run only this way)
    state                    print the node's state
    stats                    print its counters
    quit                     stop (as Ctrl-C does)
  A client (I is a client's id) sends each --op (or each line of stdin) and prints one JSON
  result per line; it registers a session first where the spec has sessions (a restarted client
  is a new incarnation), and follows redirects (raft-kv's notLeader) to another node, with backoff.

  --node I              this member's node id
  --peers ADDR,...      host:port of every member, by node id
  --key-file FILE       the cluster key: a file of at least 32 hex digits (or env PACTA_CLUSTER_KEY);
                        --key HEX works too but shows the key to every user of the machine (ps)
  --tls-cert FILE       this member's certificate (PEM): mutual TLS over tcp, with --tls-key, --tls-ca
  --tls-key FILE        its private key (PEM)
  --tls-ca FILE         the cluster CA (PEM): only members whose certificates chain to it are accepted
  --tls-servername NAME the name to check in peers' certificates instead of their addresses
  --data DIR            directory of this node's durable log (protocol nodes)
  --transport udp|tcp   default udp
  --param k=v           override a spec param (repeatable; every member must agree)
  --clients N           how many clients the cluster has (default: the spec's)
  --cluster-id N        default 1
  --epoch-ms MS         clock readings count from this Unix time (agree on it across nodes; default: now)
  --tick-ms MS          milliseconds per unit of spec time (default 1)
  --timer-ms MIN-MAX    timer range for actions without timerMs (default: they run only by 'fire')
  --sync MODE           datasync (default), fsync or none
  --op JSON             a client's operation (repeatable)
  --timeout-ms MS       a client's call timeout (default 2000)
  --layout              print the node ids of <spec> under the params and exit
  --quiet               print only the address, failures and command output
  --json                print events as JSON lines
  Exit 0 after Ctrl-C or 'quit' · 1 when the node fails (a handler threw) · 2 bad input.`;

export async function runCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      node: { type: 'string' }, peers: { type: 'string' }, key: { type: 'string' }, 'key-file': { type: 'string' }, data: { type: 'string' },
      'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'tls-ca': { type: 'string' }, 'tls-servername': { type: 'string' },
      transport: { type: 'string' }, param: { type: 'string', multiple: true }, clients: { type: 'string' },
      'cluster-id': { type: 'string' }, 'epoch-ms': { type: 'string' }, 'tick-ms': { type: 'string' }, 'timer-ms': { type: 'string' },
      sync: { type: 'string' }, op: { type: 'string', multiple: true }, 'timeout-ms': { type: 'string' },
      layout: { type: 'boolean' }, quiet: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
    runUsage,
    io,
  );
  if (!parsed) return Exit.ok;
  const v = parsed.values;
  if (parsed.positionals.length !== 1) throw new UsageError(`expected one spec, got ${parsed.positionals.length || 'none'}\n\n${runUsage}`);
  const { protocol } = await loadSpec(parsed.positionals[0]!, io.cwd);
  const params: Record<string, ParamValue> = {};
  for (const p of v.param ?? []) {
    const [k, value] = parseParam(protocol, p);
    params[k] = value;
  }
  const int = (name: string, text: string | undefined, min = 0): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${text}'`);
    return n;
  };
  const clients = int('clients', v.clients);
  let layout: ClusterLayout;
  try {
    const resolved = resolveClusterParams(protocol, params);
    const probe = new ClusterLayout(protocol, resolved);
    layout = new ClusterLayout(protocol, resolved, protocol.clients ? { clients: clients ?? Math.max(1, probe.clients!.role.count) } : {});
  } catch (e) {
    throw asUsage(e);
  }
  if (v.layout) {
    for (let id = 0; id < layout.nodeCount; id++) io.out(`${id}\t${layout.nodeName(id)}\t${layout.roleOf(id)!.name}\n`);
    return Exit.ok;
  }

  const id = int('node', v.node);
  if (id === undefined) throw new UsageError(`--node is required\n\n${runUsage}`);
  if (!v.peers) throw new UsageError(`--peers is required\n\n${runUsage}`);
  const peers = v.peers.split(',').map(parseAddress);
  await resolvePeers(peers);
  const key = await clusterKey(v, io);
  const transport = (v.transport ?? 'udp') as 'udp' | 'tcp';
  if (transport !== 'udp' && transport !== 'tcp') throw new UsageError(`--transport must be udp or tcp, got '${v.transport}'`);
  const tls = await tlsFiles(v, io.cwd);
  if (tls && transport !== 'tcp') throw new UsageError('--tls-cert, --tls-key and --tls-ca need --transport tcp (TLS runs over tcp)');
  const clusterId = int('cluster-id', v['cluster-id']) ?? 1;
  const common = { id, peers, transport, key, clusterId, params, ...(clients !== undefined ? { clients } : {}), ...(tls ? { tls } : {}) };

  // A client: send the ops, print the results.
  if (layout.isClient(id)) {
    const timeoutMs = int('timeout-ms', v['timeout-ms'], 1) ?? 2000;
    let c;
    try {
      c = await connectClient(protocol, { ...common, timeoutMs });
    } catch (e) {
      throw asUsage(e);
    }
    const clientsDef = c.layout.clients!;
    const send = async (text: string): Promise<void> => {
      let op: unknown;
      try {
        op = clientsDef.op.fromJSON(JSON.parse(text), 'op');
      } catch (e) {
        io.out(`${JSON.stringify({ op: text, error: `not an op of ${protocol.name}: ${(e as Error).message}` })}\n`);
        return;
      }
      const start = performance.now();
      try {
        const result = await c.client.invoke(op);
        io.out(`${JSON.stringify({ op: JSON.parse(text), result: clientsDef.result.toJSON(result), ms: +(performance.now() - start).toFixed(3) })}\n`);
      } catch (e) {
        if (!(e instanceof InvokeTimeout)) throw e;
        io.out(`${JSON.stringify({ op: JSON.parse(text), error: 'timeout', ms: timeoutMs })}\n`);
      }
    };
    try {
      if (v.op) for (const text of v.op) await send(text);
      else for await (const line of createInterface({ input: process.stdin })) if (line.trim()) await send(line.trim());
    } finally {
      await c.close();
    }
    return Exit.ok;
  }

  if (!v.data) throw new UsageError('--data DIR is required for a protocol node (its durable log goes there)');
  makeOutputDir(io.cwd, v.data, '--data');
  const timer = v['timer-ms'];
  let defaultTimerMs: [number, number] | undefined;
  if (timer !== undefined) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(timer);
    if (!m) throw new UsageError(`--timer-ms must be MIN-MAX in ms, got '${timer}'`);
    defaultTimerMs = [Number(m[1]), Number(m[2] ?? m[1])];
    if (defaultTimerMs[1] < defaultTimerMs[0]) throw new UsageError(`--timer-ms: MAX is below MIN in '${timer}'`);
  }
  const sync = v.sync ?? 'datasync';
  if (!['datasync', 'fsync', 'none'].includes(sync)) throw new UsageError(`--sync must be datasync, fsync or none, got '${sync}'`);

  let failed: ((code: number) => void) | undefined;
  const names = (n: number): string => layout.nodeName(n);
  const print = (e: NodeEvent): void => {
    // Damage to the durable log is reported loudly, whatever the output mode.
    if (e.kind === 'damaged') io.err(`${eventText(e, names, undefined)}\n`);
    if (v.json) {
      io.out(`${JSON.stringify(eventJSON(e, names))}\n`);
    } else if (e.kind === 'damaged') {
      // already on stderr
    } else if (e.kind === 'error') {
      io.err(`${names(e.node)} FAILED: ${e.error.message}\n`);
    } else if (!v.quiet) {
      io.out(`${eventText(e, names, node?.runtime)}\n`);
    }
    if (e.kind === 'error') failed?.(Exit.violation);
  };
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    node = await startNode(protocol, {
      ...common, dataDir: resolve(io.cwd, v.data), syncMode: sync as 'datasync',
      ...(v['epoch-ms'] !== undefined ? { epochMs: int('epoch-ms', v['epoch-ms'])! } : {}),
      ...(v['tick-ms'] !== undefined ? { tickMs: int('tick-ms', v['tick-ms'], 1)! } : {}),
      ...(defaultTimerMs ? { defaultTimerMs } : {}),
      onEvent: (e) => print(e),
    });
  } catch (e) {
    throw asUsage(e);
  }
  const running = node;
  const r = running.runtime;
  io.out(`${r.name} (node ${id} of ${protocol.name}${protocol.variantName ? `:${protocol.variantName}` : ''}) on ${transport} ${formatAddress(running.address)}, log in ${v.data}, epoch ${running.epochMs}\n`);

  const code = await new Promise<number>((resolve) => {
    let done = false;
    const finish = (c: number): void => {
      if (done) return;
      done = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      rl.close();
      // Let the process end: an open stdin pipe would keep the event loop alive.
      process.stdin.destroy();
      resolve(c);
    };
    failed = finish;
    const onSignal = (): void => finish(Exit.ok);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      const [cmd, ...rest] = line.trim().split(/\s+/);
      if (!cmd) return;
      if (cmd === 'quit') return finish(Exit.ok);
      if (cmd === 'state') return void io.out(`${JSON.stringify(r.status === 'running' ? r.role.def.state.toJSON(r.state) : null)}\n`);
      if (cmd === 'stats') return void io.out(`${JSON.stringify({ runtime: r.stats, transport: r.transport?.stats })}\n`);
      if (cmd === 'fire' && rest[0]) {
        let arg: unknown;
        try {
          arg = rest.length > 1 ? JSON.parse(rest.slice(1).join(' ')) : undefined;
        } catch {
          return void io.out(`fire ${rest[0]}: the argument is not JSON\n`);
        }
        r.fire(rest[0], arg).then(
          (ran) => io.out(`fire ${rest[0]}: ${ran ? 'done' : 'not enabled'}\n`),
          (e: Error) => io.out(`fire ${rest[0]}: ${e.message}\n`),
        );
        return;
      }
      io.out(`unknown command '${line.trim()}' (fire ACTION [ARG_JSON] | state | stats | quit)\n`);
    });
  });
  await running.close();
  return code;
}

/**
 * The cluster key: from --key-file or env PACTA_CLUSTER_KEY — never from argv, which every user of
 * the machine can read (ps). --key HEX still works, with a warning.
 */
async function clusterKey(v: { key?: string; 'key-file'?: string }, io: CliIO): Promise<Buffer> {
  const sources = [v.key !== undefined, v['key-file'] !== undefined].filter(Boolean).length;
  if (sources > 1) throw new UsageError('give the cluster key once: --key-file FILE or env PACTA_CLUSTER_KEY (--key is discouraged)');
  let text: string | undefined;
  let where: string;
  if (v['key-file'] !== undefined) {
    const path = resolve(io.cwd, v['key-file']);
    where = `--key-file ${v['key-file']}`;
    let info;
    try {
      info = await stat(path);
      text = (await readFile(path, 'utf8')).trim();
    } catch (e) {
      throw new UsageError(`--key-file: cannot read ${path}: ${(e as Error).message}`);
    }
    if ((info.mode & 0o077) !== 0) io.err(`warning: the cluster key file ${path} can be read by other users (chmod 600 it)\n`);
  } else if (v.key !== undefined) {
    io.err('warning: --key puts the cluster key in the process list, where every user of the machine can read it; use --key-file FILE or env PACTA_CLUSTER_KEY\n');
    text = v.key;
    where = '--key';
  } else {
    text = process.env.PACTA_CLUSTER_KEY;
    where = 'env PACTA_CLUSTER_KEY';
  }
  if (!text) throw new UsageError('the cluster key is required: --key-file FILE (at least 32 hex digits) or env PACTA_CLUSTER_KEY');
  if (!/^([0-9a-fA-F]{2}){16,}$/.test(text)) throw new UsageError(`${where}: the cluster key must be at least 32 hex digits (16 bytes), an even number of them`);
  return Buffer.from(text, 'hex');
}

/** Mutual TLS material from --tls-cert, --tls-key, --tls-ca (all three, or none). */
async function tlsFiles(v: { 'tls-cert'?: string; 'tls-key'?: string; 'tls-ca'?: string; 'tls-servername'?: string }, cwd: string) {
  const given = (['tls-cert', 'tls-key', 'tls-ca'] as const).filter((k) => v[k] !== undefined);
  if (given.length === 0) {
    if (v['tls-servername'] !== undefined) throw new UsageError('--tls-servername needs --tls-cert, --tls-key and --tls-ca');
    return undefined;
  }
  if (given.length < 3) throw new UsageError('mutual TLS needs all of --tls-cert, --tls-key and --tls-ca');
  const read = async (flag: 'tls-cert' | 'tls-key' | 'tls-ca'): Promise<Buffer> => {
    const path = resolve(cwd, v[flag]!);
    try {
      return await readFile(path);
    } catch (e) {
      throw new UsageError(`--${flag}: cannot read ${path}: ${(e as Error).message}`);
    }
  };
  return {
    cert: await read('tls-cert'), key: await read('tls-key'), ca: await read('tls-ca'),
    ...(v['tls-servername'] !== undefined ? { servername: v['tls-servername'] } : {}),
  };
}

function parseAddress(text: string): PeerAddress {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--peers: '${text}' is not host:port (use [v6addr]:port for IPv6)`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new UsageError(`--peers: bad port in '${text}'`);
  return { host: m[1]!, port };
}

function formatAddress(a: PeerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * Looks every peer's host name up once before anything starts: a name that does not resolve is
 * bad input naming the member, not a transport failure later (an "internal error" before).
 */
async function resolvePeers(peers: readonly PeerAddress[]): Promise<void> {
  const names = [...new Set(peers.filter((p) => isIP(p.host) === 0).map((p) => p.host))];
  await Promise.all(
    names.map(async (host) => {
      try {
        await lookup(host);
      } catch (e) {
        const member = peers.findIndex((p) => p.host === host);
        throw new UsageError(`--peers: cannot resolve the host '${host}' (member ${member}): ${(e as { code?: string }).code ?? (e as Error).message}`);
      }
    }),
  );
}

/**
 * The flag behind each executor API mistake `pacta run` can make: a CLI user sees the flag,
 * not the API function (`startCluster`, `startNode`) the message would otherwise name.
 */
const FLAG_OF_MISTAKE: Readonly<Record<string, string>> = {
  'bad-peers': '--peers',
  'bad-peer': '--peers',
  'bad-port': '--peers',
  'bad-host': '--peers',
  'bad-id': '--node',
  'client-id': '--node',
  'not-a-client': '--node',
  'bad-clients': '--clients',
  'short-key': '--key-file',
  'bad-tls': '--tls-cert, --tls-key, --tls-ca',
  'bad-cluster-id': '--cluster-id',
};

function asUsage(e: unknown): unknown {
  const code = (e as { code?: unknown }).code;
  if (e instanceof Error && typeof code === 'string' && /\//.test(code)) {
    const [fn, mistake] = code.split('/') as [string, string];
    const what = e.message.startsWith(`${fn}: `) ? e.message.slice(fn.length + 2) : e.message;
    // A param's range or an unknown param reads as under `pacta check` ("param 'rms' must be ...").
    const flag = FLAG_OF_MISTAKE[mistake];
    return new UsageError(flag ? `${flag}: ${what}` : what);
  }
  // A durable log the store refuses as bad input (not a pacta log): the data folder is input.
  const cause = (e as { cause?: { code?: unknown } }).cause;
  if (e instanceof Error && code === 'storage' && typeof cause?.code === 'string' && /\//.test(cause.code)) {
    return new UsageError(`${e.message}; move the file away to start this node afresh, or give the --data folder that holds its log`);
  }
  if (e instanceof Error && (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL')) return new UsageError(`cannot bind: ${e.message}`);
  return e;
}

function eventJSON(e: NodeEvent, name: (n: number) => string): Record<string, unknown> {
  switch (e.kind) {
    case 'error':
      return { kind: 'error', node: name(e.node), code: e.error.code, message: e.error.message };
    case 'step':
      return { ...e, node: name(e.node), ...(e.from !== undefined ? { from: name(e.from) } : {}) };
    default:
      return { ...e, node: name(e.node) };
  }
}

function eventText(e: NodeEvent, name: (n: number) => string, runtime: { role: { def: { state: { toJSON(v: unknown): unknown } } }; state: unknown } | undefined): string {
  const who = name(e.node);
  switch (e.kind) {
    case 'recovered':
      return `${who} recovered ${e.fromLog ? 'its durable fields from the log' : 'nothing (a fresh log): starts from init'}${e.damage ? ` (after ${e.damage}: as onRecover decided)` : ''}`;
    case 'damaged':
      return `${who} DAMAGED DURABLE LOG (${e.damage}): ${e.detail}${e.keptAs ? `; the damaged file is kept as ${e.keptAs}` : ''}; ${e.outcome === 'refused' ? `onRecover refused to run: ${e.reason ?? ''}` : 'onRecover chose the state to start from'}`;
    case 'started':
      return `${who} started`;
    case 'step': {
      const what = e.input === 'action' ? `action ${e.action}` : `${e.input} from ${name(e.from!)}`;
      const state = e.changed && runtime ? ` -> ${JSON.stringify(runtime.role.def.state.toJSON(runtime.state))}` : ' (no change)';
      const effects = [e.sent ? `sent ${e.sent}` : '', e.replied ? `replied ${e.replied}` : '', e.durable ? 'flushed' : ''].filter(Boolean).join(', ');
      return `${who} ${what}${state}${effects ? ` [${effects}]` : ''}`;
    }
    case 'dropped':
      return `${who} dropped a frame from ${e.from}: ${e.reason}: ${e.detail}`;
    case 'crashed':
      return `${who} stopped`;
    case 'error':
      return `${who} FAILED: ${e.error.message}`;
  }
}
