/**
 * A trace as one self-contained HTML page: lanes per node, message arrows from the step that
 * sent a message to the step that delivered it, a step slider (and ←/→, Home/End keys), and for
 * the selected step the state diff, every node's state and the messages in flight. Styles,
 * script and data are inline: the file opens offline, from disk, with no network access.
 */
import { show } from './diff.ts';
import type { TraceFile } from './format.ts';
import { timeline } from './timeline.ts';

/** What the page's script receives (display strings are computed here, not in the browser). */
interface PageData {
  title: string;
  verdict: string;
  result: TraceFile['result'];
  /** A lasso's first cycle state (liveness); absent otherwise. */
  loopStart?: number;
  meta: string;
  nodes: string[];
  steps: {
    text: string;
    kind: string;
    node: number | null;
    changes: { path: string; before: string; after: string }[];
    sent: string[];
    time: number;
    states: { name: string; role: string; crashed: boolean; state: string }[];
    network: string[];
  }[];
  arrows: { from: number; to: number; msg: string; sentAt: number | null; at: number; kind: string }[];
}

/** Renders the viewer page for a trace. */
export function toHtml(trace: TraceFile): string {
  const t = timeline(trace);
  const opts = Object.entries(trace.options).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  const params = Object.entries(trace.params).map(([k, v]) => `${k}=${String(v)}`);
  const meta = [
    params.length ? `params ${params.join(' ')}` : '',
    opts.length ? `options ${opts.join(' ')}` : '',
    trace.seed !== null ? `seed ${trace.seed}${trace.walk !== undefined ? `, walk ${trace.walk}` : ''}` : '',
    trace.minimized ? `minimized from ${trace.minimized.fromSteps} steps` : '',
  ].filter(Boolean).join(' · ');
  const data: PageData = {
    title: t.title,
    verdict: t.verdict,
    result: trace.result,
    ...(trace.loopStart !== undefined ? { loopStart: trace.loopStart } : {}),
    meta,
    nodes: t.nodes,
    steps: t.steps.map((s, i) => {
      const st = trace.steps[i]!.state;
      return {
        text: s.text,
        kind: s.kind,
        node: s.node,
        changes: s.changes.map((c) => ({ path: c.path, before: show(c.before), after: show(c.after) })),
        sent: s.sent.map((m) => `${m.msg} → ${t.nodes[m.to] ?? m.to}`),
        time: st.time,
        states: st.nodes.map((n) => ({ name: n.name, role: n.role, crashed: n.crashed, state: show(n.state) })),
        network: st.network.map((e) => `${t.nodes[e.from] ?? e.from} → ${t.nodes[e.to] ?? e.to}: ${show(e.msg)}${e.count > 1 ? ` ×${e.count}` : ''}`),
      };
    }),
    arrows: t.arrows,
  };
  // `<` escaped so that no string in the data can close the script element.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${t.title}: ${t.verdict}`)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(t.title)}</h1>
  <p class="verdict ${trace.result}">${escapeHtml(t.verdict)}</p>
  <p class="meta">${escapeHtml(meta)}</p>
</header>
<nav class="controls">
  <button id="prev" title="previous step (←)">◀</button>
  <input type="range" id="step" min="0" max="${t.steps.length - 1}" value="0" aria-label="step">
  <button id="next" title="next step (→)">▶</button>
  <span id="step-label"></span>
</nav>
<main>
  <section id="diagram"><svg id="lanes" xmlns="http://www.w3.org/2000/svg"></svg></section>
  <aside id="panel">
    <h2 id="event"></h2>
    <h3>What changed</h3>
    <table id="diff"><tbody></tbody></table>
    <h3>State</h3>
    <table id="state"><tbody></tbody></table>
    <h3>In flight</h3>
    <ul id="network"></ul>
  </aside>
</main>
<script id="trace-data" type="application/json">${json}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const CSS = `
:root { --fg: #1d2330; --muted: #6b7385; --line: #d5d9e2; --accent: #2f6fde; --bad: #c62f3a; --ok: #1f8a4c; --bg: #fbfcfe; --hl: #fff4c2; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 12px 20px 4px; }
h1 { font-size: 20px; margin: 0; }
.verdict { margin: 4px 0; font-weight: 600; }
.verdict.violation, .verdict.error { color: var(--bad); }
.verdict.deadlock { color: #a86200; }
.meta { margin: 0; color: var(--muted); font-size: 12px; }
.controls { display: flex; align-items: center; gap: 8px; padding: 8px 20px; border-bottom: 1px solid var(--line); position: sticky; top: 0; background: var(--bg); z-index: 2; }
.controls input { flex: 1; max-width: 520px; }
.controls button { font-size: 13px; padding: 2px 10px; cursor: pointer; }
#step-label { font-variant-numeric: tabular-nums; color: var(--muted); min-width: 110px; }
main { display: flex; gap: 16px; padding: 12px 20px; align-items: flex-start; }
#diagram { flex: 1 1 auto; overflow: auto; border: 1px solid var(--line); background: #fff; border-radius: 6px; max-height: calc(100vh - 140px); }
#panel { flex: 0 0 380px; position: sticky; top: 52px; }
#panel h2 { font-size: 15px; margin: 0 0 6px; }
#panel h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 14px 0 4px; }
table { border-collapse: collapse; width: 100%; font: 12px/1.35 ui-monospace, SFMono-Regular, Menlo, monospace; }
td { padding: 3px 6px; border-bottom: 1px solid var(--line); vertical-align: top; word-break: break-word; }
#diff td.before { color: var(--bad); text-decoration: line-through; }
#diff td.after { color: var(--ok); font-weight: 600; }
#state tr.changed td { background: var(--hl); }
#state tr.crashed td.name::after { content: " ✗ crashed"; color: var(--bad); }
#network { margin: 0; padding-left: 18px; font: 12px/1.35 ui-monospace, Menlo, monospace; }
.empty { color: var(--muted); font-style: italic; }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg .lane { stroke: var(--line); stroke-width: 2; }
svg .lanehead { font-weight: 700; font-size: 12px; }
svg .row { fill: transparent; cursor: pointer; }
svg .row:hover { fill: #f1f4fa; }
svg .current { fill: var(--hl); }
svg .future { opacity: .28; }
svg .arrow { stroke: var(--accent); stroke-width: 1.6; fill: none; }
svg .arrow.drop { stroke: var(--bad); stroke-dasharray: 4 3; }
svg .dot { fill: var(--accent); }
svg .crash { fill: var(--bad); font-weight: 700; font-size: 14px; }
svg .stepno { fill: var(--muted); font-variant-numeric: tabular-nums; }
svg .bad { fill: var(--bad); font-weight: 700; }
`;

/** The page's script: draws the lanes once, then updates highlight and panel per step. */
const SCRIPT = `
(function () {
  var D = JSON.parse(document.getElementById('trace-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var LANE = 150, LEFT = 46, TOP = 40, ROW = 30;
  var n = D.steps.length;
  var svg = document.getElementById('lanes');
  var width = LEFT + D.nodes.length * LANE + 20, height = TOP + n * ROW + 20;
  svg.setAttribute('width', width); svg.setAttribute('height', height);
  svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
  function el(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function x(node) { return LEFT + node * LANE + LANE / 2; }
  function y(step) { return TOP + step * ROW + ROW / 2; }
  var defs = el('defs', {});
  var marker = el('marker', { id: 'head', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' });
  marker.appendChild(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#2f6fde' }));
  defs.appendChild(marker); svg.appendChild(defs);
  var highlight = el('rect', { class: 'current', x: 0, width: width, height: ROW });
  svg.appendChild(highlight);
  var rows = [];
  for (var i = 0; i < n; i++) {
    var r = el('rect', { class: 'row', x: 0, y: TOP + i * ROW, width: width, height: ROW, 'data-step': i });
    r.addEventListener('click', (function (k) { return function () { go(k); }; })(i));
    svg.appendChild(r);
  }
  D.nodes.forEach(function (name, k) {
    svg.appendChild(el('line', { class: 'lane', x1: x(k), x2: x(k), y1: TOP - 8, y2: height - 10 }));
    svg.appendChild(el('text', { class: 'lanehead', x: x(k), y: 22, 'text-anchor': 'middle' }, name));
  });
  // Per step: a group (so future steps can be dimmed) with its marks.
  var groups = [];
  for (var s = 0; s < n; s++) {
    var g = el('g', { 'data-step': s });
    g.appendChild(el('text', { class: 'stepno', x: 8, y: y(s) + 4 }, String(s)));
    groups.push(g); svg.appendChild(g);
  }
  D.arrows.forEach(function (a) {
    var from = a.sentAt === null ? a.at : a.sentAt;
    var g = groups[a.at];
    var line = el('line', { class: 'arrow' + (a.kind === 'drop' ? ' drop' : ''), x1: x(a.from), y1: y(from), x2: x(a.to), y2: y(a.at) });
    if (a.kind !== 'drop') line.setAttribute('marker-end', 'url(#head)');
    g.appendChild(line);
    var lx = (x(a.from) + x(a.to)) / 2, ly = (y(from) + y(a.at)) / 2 - 4;
    g.appendChild(el('text', { x: lx, y: ly, 'text-anchor': 'middle' }, a.msg + (a.kind === 'drop' ? ' ✗ lost' : a.kind === 'duplicate' ? ' (dup)' : '')));
  });
  D.steps.forEach(function (st, s) {
    var g = groups[s];
    if (s === 0) { g.appendChild(el('text', { x: LEFT + 4, y: y(0) + 4 }, 'initial state')); return; }
    if (st.kind === 'crash') { g.appendChild(el('text', { class: 'crash', x: x(st.node) - 5, y: y(s) + 5 }, '✗')); g.appendChild(el('text', { x: x(st.node) + 10, y: y(s) + 4 }, 'crash')); }
    else if (st.kind === 'restart') { g.appendChild(el('circle', { class: 'dot', cx: x(st.node), cy: y(s), r: 4 })); g.appendChild(el('text', { x: x(st.node) + 8, y: y(s) + 4 }, 'restart')); }
    else if (st.kind === 'action') { g.appendChild(el('circle', { class: 'dot', cx: x(st.node), cy: y(s), r: 5 })); g.appendChild(el('text', { x: x(st.node) + 9, y: y(s) + 4 }, st.text.replace(/^[^:]*: /, ''))); }
    else if (st.kind === 'tick') { g.appendChild(el('text', { x: LEFT + 4, y: y(s) + 4 }, '⏱ tick → time ' + st.time)); }
    if (D.loopStart !== undefined) {
      if (s === D.loopStart) g.appendChild(el('text', { class: 'bad', x: width - 14, y: y(s) + 4, 'text-anchor': 'end' }, s === n - 1 ? '↻ stays here forever' : '↻ cycle starts'));
      else if (s === n - 1) g.appendChild(el('text', { class: 'bad', x: width - 14, y: y(s) + 4, 'text-anchor': 'end' }, '↻ back to step ' + D.loopStart));
    } else if (s === n - 1 && D.result !== 'deadlock') g.appendChild(el('text', { class: 'bad', x: width - 14, y: y(s) + 4, 'text-anchor': 'end' }, '✗'));
  });
  var slider = document.getElementById('step');
  var current = 0;
  function cell(tr, text, cls) { var td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); }
  function go(k) {
    current = Math.max(0, Math.min(n - 1, k));
    slider.value = String(current);
    var st = D.steps[current];
    document.getElementById('step-label').textContent = 'step ' + current + ' / ' + (n - 1);
    document.getElementById('event').textContent = current + '. ' + st.text + (current === n - 1 && D.result !== 'deadlock' ? '  ✗' : '');
    highlight.setAttribute('y', TOP + current * ROW);
    groups.forEach(function (g, s) { g.setAttribute('class', s > current ? 'future' : ''); });
    var diff = document.querySelector('#diff tbody'); diff.textContent = '';
    var changes = st.changes.slice();
    if (current === 0) { var tr0 = document.createElement('tr'); cell(tr0, 'the initial state', 'empty'); diff.appendChild(tr0); }
    else if (!changes.length && !st.sent.length) { var tr1 = document.createElement('tr'); cell(tr1, 'no node changed', 'empty'); diff.appendChild(tr1); }
    changes.forEach(function (c) { var tr = document.createElement('tr'); cell(tr, c.path); cell(tr, c.before, 'before'); cell(tr, c.after, 'after'); diff.appendChild(tr); });
    st.sent.forEach(function (m) { var tr = document.createElement('tr'); cell(tr, 'sends'); cell(tr, ''); cell(tr, m, 'after'); diff.appendChild(tr); });
    var changed = {};
    changes.forEach(function (c) { changed[c.path.split('.')[0]] = true; });
    var state = document.querySelector('#state tbody'); state.textContent = '';
    st.states.forEach(function (ns) {
      var tr = document.createElement('tr');
      tr.className = (changed[ns.name] ? 'changed ' : '') + (ns.crashed ? 'crashed' : '');
      cell(tr, ns.name, 'name'); cell(tr, ns.state); state.appendChild(tr);
    });
    var net = document.getElementById('network'); net.textContent = '';
    if (!st.network.length) { var li0 = document.createElement('li'); li0.className = 'empty'; li0.textContent = 'nothing'; net.appendChild(li0); }
    st.network.forEach(function (m) { var li = document.createElement('li'); li.textContent = m; net.appendChild(li); });
  }
  slider.addEventListener('input', function () { go(Number(slider.value)); });
  document.getElementById('prev').addEventListener('click', function () { go(current - 1); });
  document.getElementById('next').addEventListener('click', function () { go(current + 1); });
  document.addEventListener('keydown', function (e) {
    if (e.target === slider) return; // the slider handles its own arrow keys
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { go(current + 1); e.preventDefault(); }
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { go(current - 1); e.preventDefault(); }
    else if (e.key === 'Home') { go(0); e.preventDefault(); }
    else if (e.key === 'End') { go(n - 1); e.preventDefault(); }
  });
  go(0);
})();
`;
