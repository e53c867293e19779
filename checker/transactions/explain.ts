/**
 * Cycles in words and pictures. A cycle is told as a short proof by contradiction: name the
 * transactions, then give each step "Ti < Tj, because ..." with what the history shows, the
 * last step closing the loop. The same steps go into `--json`, and into a Graphviz DOT file.
 */
import type { Analysis } from './analysis.ts';
import type { FoundCycle } from './cycles.ts';
import { kindOf, levelOf, RW, WR, type EdgeKindName } from './txn-graph.ts';
import { describeOps, type Transaction, type TxnKey } from './transaction.ts';

/** One edge of a cycle. */
export interface CycleStep {
  readonly from: number;
  readonly to: number;
  /** ww, wr, rw, or an order: process, realtime, timestamp */
  readonly type: EdgeKindName;
  readonly key?: TxnKey;
  /** Why `from` precedes `to`. */
  readonly reason: string;
}

/** The steps of a found cycle, rotated to begin at its smallest transaction id (stable output). */
export function cycleSteps(analysis: Analysis, cycle: FoundCycle): CycleStep[] {
  const g = analysis.graph;
  let first = 0;
  cycle.edges.forEach((e, i) => {
    if (g.edgeFrom(e) < g.edgeFrom(cycle.edges[first]!)) first = i;
  });
  const edges = [...cycle.edges.slice(first), ...cycle.edges.slice(0, first)];
  return edges.map((e) => {
    const ex = analysis.explain(e);
    const step: CycleStep = { from: g.edgeFrom(e), to: g.edgeTo(e), type: ex.type, reason: ex.text };
    return ex.key === undefined ? step : { ...step, key: ex.key };
  });
}

/** `T1 -wr-> T0 -rw-> T1` */
export function cyclePath(steps: readonly CycleStep[]): string {
  return `T${steps[0]!.from} ${steps.map((s) => `-${s.type}-> T${s.to}`).join(' ')}`;
}

/** One line naming a transaction: process, status, source line, operations. */
export function describeTransaction(t: Transaction): string {
  const where = t.line ? `, line ${t.line}` : '';
  return `T${t.id} (process ${String(t.process)}${where}${t.status === 'committed' ? '' : `, ${t.status}`}): ${describeOps(t.ops)}`;
}

/** The cycle as a proof: the transactions, then one "because" per step. */
export function explainSteps(txns: readonly Transaction[], steps: readonly CycleStep[]): string[] {
  const lines = ['Let:'];
  for (const s of steps) lines.push(`  ${describeTransaction(txns[s.from]!)}`);
  lines.push('Then:');
  steps.forEach((s, i) => {
    const last = i === steps.length - 1;
    lines.push(`  - ${last ? 'However, ' : ''}T${s.from} < T${s.to}, because ${s.reason}${last ? ': a contradiction!' : '.'}`);
  });
  return lines;
}

/** Counts of a cycle's edges, and its class as Elle classifies cycles (for checks and tests). */
export function classifyCycle(analysis: Analysis, edges: readonly number[]): string {
  const g = analysis.graph;
  const kinds = edges.map((e) => kindOf(g.edgeInfo(e)));
  const level = Math.max(...edges.map((e) => levelOf(g.edgeInfo(e))));
  const rw = kinds.filter((k) => k === RW).length;
  const adjacent = kinds.some((k, i) => k === RW && kinds[(i + 1) % kinds.length] === RW);
  const base = rw === 1 ? 'G-single' : rw > 1 ? (adjacent ? 'G2-item' : 'G-nonadjacent') : kinds.includes(WR) ? 'G1c' : 'G0';
  return `${base}${['', '-process', '-realtime', '-timestamp'][level]}`;
}

const dotString = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
const COLORS: Record<EdgeKindName, string> = { ww: '#1f77b4', wr: '#2ca02c', rw: '#d62728', process: '#7f7f7f', realtime: '#9467bd', timestamp: '#8c564b' };

/** A Graphviz DOT picture of a cycle: one node per transaction (its operations), one labeled edge per step. */
export function cycleDot(title: string, txns: readonly Transaction[], steps: readonly CycleStep[]): string {
  const lines = [`digraph ${dotString(title)} {`, '  rankdir=LR;', '  node [shape=box, fontname="monospace"];', `  label=${dotString(title)};`];
  const nodes = [...new Set(steps.flatMap((s) => [s.from, s.to]))];
  for (const id of nodes) {
    const t = txns[id]!;
    lines.push(`  T${id} [label=${dotString(`T${id} (process ${String(t.process)}${t.line ? `, line ${t.line}` : ''})\n${describeOps(t.ops)}`)}];`);
  }
  for (const s of steps) {
    const label = s.key === undefined ? s.type : `${s.type} ${String(s.key)}`;
    lines.push(`  T${s.from} -> T${s.to} [label=${dotString(label)}, color=${dotString(COLORS[s.type])}, fontcolor=${dotString(COLORS[s.type])}, tooltip=${dotString(s.reason)}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
