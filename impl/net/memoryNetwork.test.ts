import { describe, it, expect } from 'vitest';
import { simulatedClock } from '../clock/simulatedClock.ts';
import { systemClock } from '../clock/systemClock.ts';
import { MemoryNetwork, type MemoryFaults } from './memoryNetwork.ts';
import type { Frame } from './frame.ts';

const key = Buffer.alloc(32, 3);

function setup(faults: MemoryFaults = {}, seed = 1) {
  const clock = simulatedClock();
  const network = new MemoryNetwork({ clusterId: 9, key, seed, clock, ...faults });
  const nodes = [1, 2, 3].map((id) => network.transport(id));
  const inbox = new Map<number, Frame[]>(nodes.map((t) => [t.self, []]));
  for (const t of nodes) t.onFrame((f) => inbox.get(t.self)!.push(f));
  return { clock, network, nodes, inbox };
}

const text = (frames: Frame[]): string[] => frames.map((f) => f.payload.toString());

describe('MemoryNetwork', () => {
  it('delivers authenticated frames in order when no fault is set, only when the clock runs', () => {
    const { clock, nodes, inbox } = setup();
    for (let i = 0; i < 5; i++) nodes[0]!.send(2, 7, Buffer.from(`m${i}`));
    expect(inbox.get(2)).toEqual([]);
    clock.advance(0);
    const got = inbox.get(2)!;
    expect(text(got)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(got.map((f) => [f.from, f.to, f.kind, f.seq])).toEqual([0, 1, 2, 3, 4].map((s) => [1, 2, 7, s]));
    expect(nodes[0]!.stats.framesSent).toBe(5);
    expect(nodes[0]!.payloadBytesMax).toBe((1 << 20) - 44);
    expect(nodes[1]!.stats.framesReceived).toBe(5);
  });

  it('is deterministic per seed under loss, duplication, delay and corruption', () => {
    const run = (seed: number) => {
      const { clock, nodes, inbox } = setup({ lossRate: 0.2, duplicateRate: 0.2, corruptRate: 0.1, delayMsMin: 1, delayMsMax: 50 }, seed);
      for (let i = 0; i < 200; i++) nodes[i % 3]!.send(((i + 1) % 3) + 1, 1, Buffer.from(`m${i}`));
      clock.runAll();
      return { delivered: [...inbox.values()].map(text), stats: nodes.map((n) => n.stats) };
    };
    const a = run(42);
    expect(run(42)).toEqual(a);
    expect(run(43)).not.toEqual(a);
    const dropped = a.stats.reduce((s, x) => s + x.dropped.loss, 0);
    const rejected = a.stats.reduce((s, x) => s + x.dropped['bad-tag'] + x.dropped.truncated + x.dropped.malformed + x.dropped.oversized + x.dropped['bad-version'] + x.dropped['wrong-cluster'] + x.dropped.misrouted, 0);
    const received = a.stats.reduce((s, x) => s + x.framesReceived, 0);
    const copies = a.stats.reduce((s, x) => s + x.packetsSent, 0);
    // Every frame is accounted for: lost, or sent as copies that were received or rejected.
    expect(copies).toBeGreaterThan(200 - dropped); // duplicates add copies
    expect(dropped).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(5);
    expect(received + rejected).toBe(copies);
    // Delays reorder frames and duplicates appear.
    const all = a.delivered.flat();
    expect(new Set(all).size).toBeLessThan(all.length);
  });

  it('delays deliveries within the configured range', () => {
    const { clock, nodes, inbox } = setup({ delayMsMin: 10, delayMsMax: 20 });
    const landedMs: number[] = [];
    nodes[1]!.onFrame(() => landedMs.push(clock.now()));
    for (let i = 0; i < 50; i++) nodes[0]!.send(2, 0, Buffer.from([i]));
    clock.advance(9.999);
    expect(inbox.get(2)).toEqual([]);
    clock.advance(10);
    expect(landedMs).toHaveLength(50);
    expect(Math.min(...landedMs)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...landedMs)).toBeLessThanOrEqual(20);
    expect(text(inbox.get(2)!)).not.toEqual(text(inbox.get(2)!).sort());
  });

  it('partitions and heals links, dropping frames in flight on a cut link', () => {
    const { clock, network, nodes, inbox } = setup({ delayMsMin: 5, delayMsMax: 5 });
    nodes[0]!.send(2, 0, Buffer.from('in flight'));
    network.partition(1, [2, 3]);
    expect(network.isPartitioned(2, 1)).toBe(true);
    nodes[0]!.send(3, 0, Buffer.from('blocked'));
    nodes[1]!.send(3, 0, Buffer.from('2 to 3 still works'));
    clock.advance(10);
    expect(inbox.get(2)).toEqual([]);
    expect(text(inbox.get(3)!)).toEqual(['2 to 3 still works']);
    expect(nodes[0]!.stats.dropped.partition).toBe(2);
    network.heal(1, 2);
    nodes[0]!.send(2, 0, Buffer.from('healed'));
    nodes[0]!.send(3, 0, Buffer.from('still blocked'));
    network.heal();
    nodes[0]!.send(3, 0, Buffer.from('all healed'));
    clock.advance(10);
    expect(text(inbox.get(2)!)).toEqual(['healed']);
    expect(text(inbox.get(3)!)).toEqual(['2 to 3 still works', 'all healed']);
  });

  it('counts frames to a detached node as unreachable and lets it re-attach (restart)', async () => {
    const { clock, network, nodes } = setup();
    await nodes[1]!.close();
    nodes[0]!.send(2, 0, Buffer.from('x'));
    clock.advance(0);
    expect(nodes[0]!.stats.dropped.unreachable).toBe(1);
    expect(() => nodes[1]!.send(1, 0, Buffer.from('x'))).toThrowError(expect.objectContaining({ code: 'memoryTransport.send/closed' }));
    const restarted = network.transport(2);
    const got: Frame[] = [];
    restarted.onFrame((f) => got.push(f));
    nodes[0]!.send(2, 0, Buffer.from('after restart'));
    clock.advance(0);
    expect(text(got)).toEqual(['after restart']);
    expect(() => network.transport(2)).toThrowError(expect.objectContaining({ code: 'MemoryNetwork.transport/duplicate-node' }));
  });

  it('unregisters handlers and validates fault options', () => {
    const { clock, network, nodes, inbox } = setup();
    const extra: Frame[] = [];
    const off = nodes[1]!.onFrame((f) => extra.push(f));
    off();
    nodes[0]!.send(2, 0, Buffer.from('x'));
    clock.advance(0);
    expect(extra).toEqual([]);
    expect(inbox.get(2)).toHaveLength(1);
    expect(() => network.setFaults({ lossRate: 2 })).toThrowError(expect.objectContaining({ code: 'MemoryNetwork.setFaults/bad-loss-rate' }));
    expect(() => network.setFaults({ delayMsMin: 5 })).toThrowError(expect.objectContaining({ code: 'MemoryNetwork.setFaults/bad-delay-ms-max' }));
    network.setFaults({ delayMsMin: 5, delayMsMax: 6 });
    expect(network.faults.delayMsMin).toBe(5);
  });

  it('runs on the system clock too', async () => {
    const network = new MemoryNetwork({ clusterId: 1, key, seed: 1, clock: systemClock() });
    const a = network.transport(1);
    const b = network.transport(2);
    const got = new Promise<Frame>((resolve) => b.onFrame(resolve));
    a.send(2, 3, Buffer.from('hi'));
    expect((await got).payload.toString()).toBe('hi');
  });

  it('holds frames for a driver in manual mode: deliver, deliver again, drop', () => {
    const network = new MemoryNetwork({ clusterId: 9, key, seed: 0, delivery: 'manual' });
    const [a, b, c] = [1, 2, 3].map((id) => network.transport(id));
    const got: string[] = [];
    b!.onFrame((f) => got.push(`${f.from}>${f.payload.toString()}`));
    c!.onFrame((f) => got.push(`${f.from}>c:${f.payload.toString()}`));
    a!.send(2, 1, Buffer.from('x'));
    a!.send(2, 1, Buffer.from('y'));
    a!.send(3, 4, Buffer.from('z'));
    const waiting = network.inFlight();
    expect(waiting.map((f) => [f.from, f.to, f.kind, f.seq, f.payload.toString()])).toEqual([
      [1, 2, 1, 0, 'x'],
      [1, 2, 1, 1, 'y'],
      [1, 3, 4, 0, 'z'],
    ]);
    const [x, y, z] = waiting.map((f) => f.id);
    network.deliver(y!);
    expect(got).toEqual(['1>y']);
    network.deliver(x!, { consume: false });
    network.deliver(x!);
    expect(got).toEqual(['1>y', '1>x', '1>x']);
    network.drop(z!);
    expect(network.inFlight()).toEqual([]);
    expect(a!.stats.dropped.loss).toBe(1);
    expect(() => network.deliver(x!)).toThrowError(expect.objectContaining({ code: 'MemoryNetwork.deliver/unknown-frame' }));
    // A partition at delivery time drops the frame.
    a!.send(2, 1, Buffer.from('cut'));
    network.partition(1, 2);
    network.deliver(network.inFlight()[0]!.id);
    expect(got).toHaveLength(3);
    expect(a!.stats.dropped.partition).toBe(1);
    expect(() => network.setFaults({ lossRate: 0.1 })).toThrowError(expect.objectContaining({ code: 'MemoryNetwork.setFaults/faults-in-manual-mode' }));
    expect(network.faults.lossRate).toBe(0);
    expect(() => new MemoryNetwork({ clusterId: 9, key, seed: 0, delivery: 'manual', delayMsMax: 5 })).toThrowError(
      expect.objectContaining({ code: 'MemoryNetwork/faults-in-manual-mode' }),
    );
    const scheduled = new MemoryNetwork({ clusterId: 9, key, seed: 0, clock: simulatedClock() });
    expect(() => scheduled.drop(0)).toThrowError(expect.objectContaining({ code: 'MemoryNetwork.drop/not-manual' }));
  });
});
