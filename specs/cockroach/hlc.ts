/**
 * Hybrid logical clocks in the model (Kulkarni, Demirbas, Madappa, Avva, Leone, "Logical Physical
 * Clocks", OPODIS 2014, Fig. 5), as pure functions of a clock state and a physical reading.
 *
 * A timestamp is a pair (l, c): l the largest physical reading heard of, c a counter that orders
 * events sharing an l. In the spec's states and messages a timestamp is one number, l · LOGICAL + c,
 * so that the order of the numbers is the order of the pairs and the MVCC helpers compare plain
 * numbers (a trace's 203 reads as l = 2, c = 3). The model's counters stay far below LOGICAL; the
 * spec's invariant `c < LOGICAL` says so on every state.
 *
 * (The executor's own HLC, impl/clock/hlc.ts, is a clock object over the system clock; specs do
 * not import impl, and the spec's clock is part of its state so that the checker explores it.)
 */
import { t } from '../core/index.ts';

/** The logical counter's range inside a packed timestamp. */
export const LOGICAL = 100;

/** A node's hybrid logical clock. */
export const Hlc = t.struct({ l: t.u32, c: t.u32 });
export type Hlc = typeof Hlc.__type;

/** The clock before any event. */
export const ZERO: Hlc = { l: 0, c: 0 };

/** The packed timestamp of a clock reading. */
export const pack = (h: Hlc): number => h.l * LOGICAL + h.c;

/** The clock reading of a packed timestamp. */
export const unpack = (ts: number): Hlc => ({ l: Math.floor(ts / LOGICAL), c: ts % LOGICAL });

/** The last timestamp (largest counter) with physical part `l`: an inclusive bound on a wall time. */
export const endOf = (l: number): number => l * LOGICAL + (LOGICAL - 1);

/** A local or send event at physical reading `pt`: l' = max(l, pt); c' = c + 1 if l did not move, else 0. */
export function tick(h: Hlc, pt: number): Hlc {
  const l = Math.max(h.l, pt);
  return { l, c: l === h.l ? h.c + 1 : 0 };
}

/**
 * A receive event of a message stamped `m`, at physical reading `pt`: l' = max(l, l_m, pt), and
 * c' by which of the three l' equals (both: max(c, c_m) + 1; only the local: c + 1; only the
 * message's: c_m + 1; neither: 0). The result is above both the local clock and `m`.
 */
export function receive(h: Hlc, m: Hlc, pt: number): Hlc {
  const l = Math.max(h.l, m.l, pt);
  if (l === h.l && l === m.l) return { l, c: Math.max(h.c, m.c) + 1 };
  if (l === h.l) return { l, c: h.c + 1 };
  if (l === m.l) return { l, c: m.c + 1 };
  return { l, c: 0 };
}

/**
 * CockroachDB's receive (hlc.Clock.Update): the clock moves forward to `m` if `m` is ahead, and
 * does not tick otherwise; the next local event ticks above it. A receive is then at or above its
 * send, and every later event strictly above.
 */
export function forward(h: Hlc, m: Hlc): Hlc {
  return m.l > h.l || (m.l === h.l && m.c > h.c) ? m : h;
}

/** `h` as is when equal to `next` (handlers return the same object when nothing changes). */
export const same = (h: Hlc, next: Hlc): Hlc => (h.l === next.l && h.c === next.c ? h : next);
