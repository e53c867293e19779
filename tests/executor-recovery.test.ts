/**
 * A damaged durable log on the executor: the runtime tells a torn tail from corruption, from an
 * emptied log and (for a role that declares `lostWrites: 'detected'`) from a lost write, keeps
 * the damaged file aside, reports it (a `damaged` event, the runtime's `recovery`), and hands it
 * to the role's `onRecover`, whose answer is made durable before the node runs — or whose
 * refusal keeps the node down. Nothing is silently truncated.
 */
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCluster, type NodeEvent } from '../impl/index.ts';
import { LOG_HEADER_BYTES, RECORD_HEADER_BYTES } from '../impl/storage/index.ts';
import { damageLog } from '../impl/storage/damageLog.ts';
import { protocol, refuse, t, type RoleDef } from '../specs/core/index.ts';

const Msg = t.union('kind', { nothing: {} });
const spec = protocol({ name: 'counter', params: {}, messages: Msg });
const Counter = t.struct({ n: t.u32, suspect: t.bool, runs: t.u32 });
type Counter = typeof Counter.__type;

function counter(onRecover?: RoleDef<Counter, unknown, Record<string, never>>['onRecover'], lostWrites?: 'detected') {
  return spec.role(Counter)({
    count: 1,
    durable: ['n', 'suspect'],
    ...(lostWrites ? { lostWrites } : {}),
    init: () => ({ n: 0, suspect: false, runs: 0 }),
    ...(onRecover ? { onRecover } : {}),
    actions: { incr: { do: (s) => ({ ...s, n: s.n + 1 }) } },
  });
}

/** Marks the state suspect on any damage but a torn tail; refuses an emptied log. */
const careful = spec.define({
  roles: {
    node: counter((s, damage) => (damage.kind === 'empty-log' ? refuse('my state is gone and no one can give it back') : damage.kind === 'torn-tail' ? s : { ...s, suspect: true })),
  },
});
const hookless = spec.define({ roles: { node: counter() } });
/** `careful`, whose storage detects lost writes (a high-water mark beside the log). */
const detecting = spec.define({
  roles: { node: counter((s, damage) => (damage.kind === 'torn-tail' ? s : { ...s, suspect: true }), 'detected') },
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pacta-recovery-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cluster(protocol: typeof careful, events: NodeEvent[]) {
  const c = await startCluster<never, never>(protocol, { transport: 'memory', dataDir: dir, syncMode: 'none', onEvent: (e) => events.push(e) });
  for (let i = 0; i < 5; i++) await c.fire(0, 'incr');
  await c.crash(0);
  return c;
}

const logFile = (): string => join(dir, 'node-0.log');

describe('a damaged log reaches onRecover', () => {
  it('a bit flipped in a middle record: corruption, kept aside, reported, and the hook marks the state suspect durably', async () => {
    const events: NodeEvent[] = [];
    const c = await cluster(careful, events);
    try {
      const bytes = readFileSync(logFile());
      const damaged = Buffer.from(bytes);
      damaged[LOG_HEADER_BYTES + RECORD_HEADER_BYTES + 1]! ^= 0x01; // the first record's payload
      writeFileSync(logFile(), damaged);
      await c.restart(0);
      const report = events.find((e) => e.kind === 'damaged');
      expect(report).toMatchObject({ kind: 'damaged', damage: 'corrupt-record', outcome: 'recovered' });
      expect((report as { detail: string }).detail).toMatch(/4 intact records after it/);
      expect(readFileSync((report as { keptAs: string }).keptAs)).toEqual(damaged);
      // Every record is a whole projection: the latest intact one (n = 5) is the newest state.
      expect(c.state(0)).toEqual({ n: 5, suspect: true, runs: 0 });
      expect(c.node(0).recovery).toMatchObject({ damage: 'corrupt-record', outcome: 'recovered' });
      expect(events.find((e) => e.kind === 'recovered' && e.damage === 'corrupt-record')).toBeDefined();
      // The hook's answer was saved before the node ran: a clean restart keeps it.
      await c.crash(0);
      await c.restart(0);
      expect(c.state(0)).toEqual({ n: 5, suspect: true, runs: 0 });
      expect(c.node(0).recovery).toBe(null);
    } finally {
      await c.close();
    }
  });

  it('the last record cut short: a torn tail, handed over as such, the state before the cut write', async () => {
    const events: NodeEvent[] = [];
    const c = await cluster(careful, events);
    try {
      truncateSync(logFile(), statSync(logFile()).size - 1);
      await c.restart(0);
      expect(events.find((e) => e.kind === 'damaged')).toMatchObject({ damage: 'torn-tail', outcome: 'recovered' });
      expect(c.state(0)).toEqual({ n: 4, suspect: false, runs: 0 });
    } finally {
      await c.close();
    }
  });

  it('an emptied log: the hook refuses, the node stays down with refused-recovery, the file is kept', async () => {
    const events: NodeEvent[] = [];
    const c = await cluster(careful, events);
    try {
      writeFileSync(logFile(), '');
      await expect(c.restart(0)).rejects.toMatchObject({ code: 'refused-recovery', during: 'onRecover' });
      expect(c.node(0).status).not.toBe('running');
      const report = events.find((e) => e.kind === 'damaged');
      expect(report).toMatchObject({ damage: 'empty-log', outcome: 'refused', reason: 'my state is gone and no one can give it back' });
      expect(existsSync((report as { keptAs: string }).keptAs)).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('a lost write (the last flushed record gone whole): detected by the high-water mark when the role declares it, reported, repaired once', async () => {
    const events: NodeEvent[] = [];
    const c = await cluster(detecting, events);
    try {
      expect(existsSync(`${logFile()}.mark`)).toBe(true);
      await damageLog(logFile(), 'lost-write');
      await c.restart(0);
      const report = events.find((e) => e.kind === 'damaged');
      expect(report).toMatchObject({ damage: 'lost-write', outcome: 'recovered' });
      expect((report as { detail: string }).detail).toMatch(/ends at record 4, but its high-water mark says record 5 was flushed/);
      expect(existsSync((report as { keptAs: string }).keptAs)).toBe(true);
      // The state before the lost save, marked by onRecover and saved before the node ran.
      expect(c.state(0)).toEqual({ n: 4, suspect: true, runs: 0 });
      await c.crash(0);
      await c.restart(0);
      expect(c.node(0).recovery).toBe(null);
      expect(c.state(0)).toEqual({ n: 4, suspect: true, runs: 0 });
    } finally {
      await c.close();
    }
  });

  it('a lost write under a role that does not declare its detection: no mark is kept, the log reads clean (the loss goes unseen)', async () => {
    const events: NodeEvent[] = [];
    const c = await cluster(careful, events);
    try {
      expect(existsSync(`${logFile()}.mark`)).toBe(false);
      await damageLog(logFile(), 'lost-write');
      await c.restart(0);
      expect(c.node(0).recovery).toBe(null);
      expect(c.state(0)).toEqual({ n: 4, suspect: false, runs: 0 });
    } finally {
      await c.close();
    }
  });

  it('without onRecover: a torn tail is accepted, corruption refused', async () => {
    const events: NodeEvent[] = [];
    const c = await cluster(hookless, events);
    try {
      truncateSync(logFile(), statSync(logFile()).size - 1);
      await c.restart(0);
      expect(c.state(0)).toMatchObject({ n: 4 });
      await c.crash(0);
      const bytes = readFileSync(logFile());
      bytes[bytes.length - 1]! ^= 0x80;
      writeFileSync(logFile(), bytes);
      await expect(c.restart(0)).rejects.toMatchObject({ code: 'refused-recovery' });
      expect(events.filter((e) => e.kind === 'damaged').map((e) => e.kind === 'damaged' && [e.damage, e.outcome])).toEqual([['torn-tail', 'recovered'], ['corrupt-record', 'refused']]);
    } finally {
      await c.close();
    }
  });
});
