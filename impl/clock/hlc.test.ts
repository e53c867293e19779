import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { simulatedClock } from './simulatedClock.ts';
import { hlc, compareHlc, type HlcTimestamp } from './hlc.ts';

type Event =
  | { kind: 'local'; node: number }
  | { kind: 'send'; node: number; to: number }
  | { kind: 'deliver'; pick: number }
  | { kind: 'tick'; ms: number };

const nodes = 4;
const epsilonMs = 20;
const eventArb: fc.Arbitrary<Event> = fc.oneof(
  fc.record({ kind: fc.constant('local' as const), node: fc.nat(nodes - 1) }),
  fc.record({ kind: fc.constant('send' as const), node: fc.nat(nodes - 1), to: fc.nat(nodes - 1) }),
  fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.nat(30) }),
);

describe('hlc', () => {
  it('is monotonic per node, orders receives after sends, and stays within the clock offset', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -epsilonMs, max: epsilonMs }), { minLength: nodes, maxLength: nodes }),
        fc.array(eventArb, { maxLength: 120 }),
        (offsets, events) => {
          const sim = simulatedClock({ startMs: 10_000 });
          const views = offsets.map((offsetMs) => sim.view({ offsetMs }));
          const clocks = views.map((physical) => hlc({ physical }));
          const last: (HlcTimestamp | undefined)[] = new Array(nodes).fill(undefined);
          const inFlight: { to: number; ts: HlcTimestamp }[] = [];
          const record = (node: number, ts: HlcTimestamp): void => {
            const previous = last[node];
            if (previous) expect(compareHlc(ts, previous)).toBeGreaterThan(0);
            last[node] = ts;
            const pt = Math.floor(views[node]!.now());
            // wallMs never lags the local physical clock and leads it by at most the largest
            // offset between two clocks (2 epsilon), plus flooring.
            expect(ts.wallMs).toBeGreaterThanOrEqual(pt);
            expect(ts.wallMs - pt).toBeLessThanOrEqual(2 * epsilonMs + 1);
            expect(clocks[node]!.peek()).toEqual(ts);
          };
          for (const e of events) {
            if (e.kind === 'tick') sim.advance(e.ms);
            else if (e.kind === 'local') record(e.node, clocks[e.node]!.now());
            else if (e.kind === 'send') {
              const ts = clocks[e.node]!.send();
              record(e.node, ts);
              inFlight.push({ to: e.to, ts });
            } else if (inFlight.length > 0) {
              const [m] = inFlight.splice(e.pick % inFlight.length, 1);
              const ts = clocks[m!.to]!.receive(m!.ts);
              expect(compareHlc(ts, m!.ts)).toBeGreaterThan(0);
              record(m!.to, ts);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('follows the paper: ties bump the logical counter, a later physical clock resets it', () => {
    const sim = simulatedClock({ startMs: 100 });
    const clock = hlc({ physical: sim });
    expect(clock.now()).toEqual({ wallMs: 100, logical: 0 });
    expect(clock.send()).toEqual({ wallMs: 100, logical: 1 });
    expect(clock.receive({ wallMs: 130, logical: 4 })).toEqual({ wallMs: 130, logical: 5 });
    expect(clock.receive({ wallMs: 130, logical: 9 })).toEqual({ wallMs: 130, logical: 10 });
    expect(clock.receive({ wallMs: 120, logical: 50 })).toEqual({ wallMs: 130, logical: 11 });
    sim.advance(40);
    expect(clock.now()).toEqual({ wallMs: 140, logical: 0 });
    expect(clock.receive({ wallMs: 90, logical: 3 })).toEqual({ wallMs: 140, logical: 1 });
    sim.advance(10);
    expect(clock.receive({ wallMs: 90, logical: 3 })).toEqual({ wallMs: 150, logical: 0 });
  });

  it('rejects malformed remote timestamps', () => {
    const clock = hlc({ physical: simulatedClock() });
    expect(() => clock.receive({ wallMs: 1.5, logical: 0 })).toThrowError(expect.objectContaining({ code: 'hlc.receive/bad-timestamp' }));
    expect(() => clock.receive({ wallMs: 1, logical: -1 })).toThrowError(expect.objectContaining({ code: 'hlc.receive/bad-timestamp' }));
  });
});
