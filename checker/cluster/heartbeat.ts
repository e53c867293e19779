/**
 * A worker's heartbeat, kept from a thread of its own. The main thread can be busy for seconds at
 * a time (a visited set of millions of states growing fourfold, a long slice on a loaded machine),
 * and a heartbeat sent from there would expire although the worker is alive and working. A thread
 * with its own event loop beats on time, and it dies with the process, which is what the
 * coordinator must notice. The thread speaks the few bytes of RESP it needs over a plain socket
 * (one SET with an expiry, twice a second), so it loads nothing: no TypeScript, no client library.
 * `rediss://` (TLS) URLs beat from the main thread instead.
 */
import { Worker } from 'node:worker_threads';

/** The thread's code (CommonJS, run with `eval`): connect, optionally AUTH and SELECT, then SET key value PX ttl on a timer. */
const THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const net = require('node:net');
const { host, port, password, username, db, key, value, ttl, every } = workerData;
const resp = (...words) => '*' + words.length + '\\r\\n' + words.map((w) => '$' + Buffer.byteLength(String(w)) + '\\r\\n' + w + '\\r\\n').join('');
const socket = net.connect({ host, port }, () => {
  if (password) socket.write(username ? resp('AUTH', username, password) : resp('AUTH', password));
  if (db) socket.write(resp('SELECT', db));
  const beat = () => socket.write(resp('SET', key, value, 'PX', ttl));
  beat();
  setInterval(beat, every);
});
socket.setNoDelay(true);
socket.on('data', (d) => { if (d.includes(45)) parentPort.postMessage({ error: d.toString().trim() }); });
socket.on('error', (e) => parentPort.postMessage({ error: e.message }));
socket.on('close', () => parentPort.postMessage({ error: 'connection closed' }));
parentPort.on('message', (m) => { if (m === 'stop') { socket.end(resp('DEL', key)); setTimeout(() => process.exit(0), 200); } });
`;

/** Keeps `key` set to `value` (expiring after `ttlMs`) every `everyMs`; `onLost` hears of a lost connection. */
export function startHeartbeat(url: string, key: string, value: string, ttlMs: number, everyMs: number, onLost: (why: string) => void): { stop: () => Promise<void> } {
  const u = new URL(url);
  const thread = new Worker(THREAD, {
    eval: true,
    workerData: {
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: Number(u.port || 6379),
      password: u.password ? decodeURIComponent(u.password) : '',
      username: u.username ? decodeURIComponent(u.username) : '',
      db: u.pathname.replace(/^\//, ''),
      key, value, ttl: ttlMs, every: everyMs,
    },
  });
  let stopping = false;
  thread.on('message', (m: { error?: string }) => {
    if (!stopping && m.error) onLost(m.error);
  });
  thread.on('error', (e) => {
    if (!stopping) onLost(e.message);
  });
  thread.unref();
  return {
    stop: async () => {
      stopping = true;
      thread.postMessage('stop');
      await new Promise((r) => setTimeout(r, 250));
      await thread.terminate();
    },
  };
}
