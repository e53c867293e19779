/**
 * The plot of bench/raft-vs-etcd.ts: throughput (left) and p99 latency (right) against the number
 * of clients (log scale), one line per system, as a self-contained SVG.
 */

/** One measured point of one system. */
export interface PlotPoint {
  readonly system: string;
  readonly clients: number;
  readonly opsPerSecond: number;
  readonly p99: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/** The SVG text; `title` goes above both panels. */
export function throughputAndP99Svg(points: readonly PlotPoint[], title: string): string {
  const W = 860, H = 380, T = 50, B = 50, panelW = 330, gap = 90, L = 70;
  const systems = [...new Set(points.map((p) => p.system))];
  const clients = [...new Set(points.map((p) => p.clients))].sort((a, b) => a - b);
  const lx = (c: number): number => Math.log2(c);
  const [minX, maxX] = [lx(clients[0]!), Math.max(lx(clients[clients.length - 1]!), lx(clients[0]!) + 1)];
  const panel = (left: number, label: string, value: (p: PlotPoint) => number): string => {
    const maxY = niceMax(Math.max(...points.map(value)));
    const x = (c: number): number => left + ((lx(c) - minX) / (maxX - minX)) * panelW;
    const y = (v: number): number => H - B - (v / maxY) * (H - T - B);
    const parts: string[] = [];
    for (let i = 0; i <= 4; i++) {
      const v = (maxY * i) / 4;
      parts.push(`<line x1="${left}" x2="${left + panelW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
      parts.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${fmt(v)}</text>`);
    }
    for (const c of clients) parts.push(`<text x="${x(c).toFixed(1)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${c}</text>`);
    parts.push(`<line x1="${left}" x2="${left}" y1="${T}" y2="${H - B}" stroke="black"/><line x1="${left}" x2="${left + panelW}" y1="${H - B}" y2="${H - B}" stroke="black"/>`);
    parts.push(`<text x="${left + panelW / 2}" y="${H - 14}" font-size="12" text-anchor="middle">concurrent clients</text>`);
    parts.push(`<text x="${left + panelW / 2}" y="${T - 10}" font-size="13" text-anchor="middle">${label}</text>`);
    systems.forEach((s, k) => {
      const pts = points.filter((p) => p.system === s).sort((a, b) => a.clients - b.clients);
      const color = COLORS[k % COLORS.length]!;
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${x(p.clients).toFixed(1)},${y(value(p)).toFixed(1)}`).join(' ')}"/>`);
      for (const p of pts) parts.push(`<circle cx="${x(p.clients).toFixed(1)}" cy="${y(value(p)).toFixed(1)}" r="3" fill="${color}"/>`);
    });
    return parts.join('\n');
  };
  const legend = systems.map((s, k) => {
    const ly = 20 + 16 * k;
    return `<line x1="${W - 150}" x2="${W - 125}" y1="${ly}" y2="${ly}" stroke="${COLORS[k % COLORS.length]}" stroke-width="2"/><text x="${W - 120}" y="${ly + 4}" font-size="12">${escape(s)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${L}" y="18" font-size="13">${escape(title)}</text>
${panel(L, 'committed operations per second', (p) => p.opsPerSecond)}
${panel(L + panelW + gap, 'p99 latency (ms)', (p) => p.p99)}
${legend.join('\n')}
</svg>
`;
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(v));
  return Math.ceil(v / step) * step;
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
