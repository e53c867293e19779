/**
 * The `npx pacta` lines of the README and the guides run on a fresh clone with the exit code they
 * document (`# exit N` in the line's comment; 0 otherwise). Each file's lines run in order, in a
 * scratch folder that sees the repository's `tests/` and `traces/` (the paths the docs use) and,
 * for the own-protocol example, a copy of that package; so a guide that checks, then minimizes
 * the trace it wrote, is followed as a reader follows it.
 *
 * Only the cheap lines are held to it: an exhaustive check is given a state budget, and a line
 * that spends it (exit 3, where the doc says 0) is a long run that the suite does not pay for.
 * Lines that need what the test cannot give are left out, each for its stated reason.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';

const repo = resolve(import.meta.dirname, '..');
/** States an exhaustive line may explore here before it counts as a long run. */
const STATE_BUDGET = 2_000;

interface DocLine {
  line: number;
  argv: string[];
  exit: number;
}

/** The `npx pacta` lines inside the code blocks of a Markdown file. */
function docLines(markdown: string): DocLine[] {
  const out: DocLine[] = [];
  let inCode = false;
  markdown.split('\n').forEach((text, i) => {
    if (/^```/.test(text)) inCode = !inCode;
    const m = inCode ? /^(?:\$ )?npx pacta (.*)$/.exec(text) : null;
    if (!m) return;
    const [command, comment = ''] = m[1]!.split(/\s+#\s/, 2) as [string, string?];
    const argv = words(command.trim());
    // A check of SPEC:VARIANT is caught unless the line says otherwise (docs/cli.md: every bundled variant is).
    const variant = argv[0] === 'check' && /^[\w-]+:[\w-]+$/.test(argv[1] ?? '');
    out.push({ line: i + 1, argv, exit: Number(/\bexit (\d)\b/.exec(comment)?.[1] ?? (variant ? 1 : 0)) });
  });
  return out;
}

/** Shell words: spaces split, single quotes group (the docs use nothing else). */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** Why a line is not run here, or undefined when it runs. */
function notRun(l: DocLine, cwd: string): string | undefined {
  const text = l.argv.join(' ');
  if (l.argv.at(-1) === '\\') return 'continues on the next line';
  if (/\$\w|&$/.test(text)) return 'needs shell variables or a background process';
  if (l.argv[0] === 'run') return 'starts a cluster node (a long-running process)';
  const missing = l.argv.slice(1).find((a) => /^\.{0,2}\/|\.(ts|json|log|edn)$/.test(a) && !a.startsWith('-') && !/^[\w-]+(:[\w-]+)?$/.test(a) && !existsSync(resolve(cwd, a.replace(/:[\w-]+$/, ''))));
  // A trace under pacta-traces/ is one an earlier line of the same guide wrote: it must be there.
  if (missing !== undefined && !missing.startsWith('pacta-traces/')) return `names ${missing}, a file the guide has the reader write`;
  return undefined;
}

/** A scratch folder as a fresh clone looks from where the docs' commands run. */
function scratchFor(doc: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pacta-doc-'));
  if (doc === 'docs/examples/own-protocol/README.md') {
    cpSync(join(repo, 'docs', 'examples', 'own-protocol'), dir, { recursive: true });
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(repo, join(dir, 'node_modules', 'pacta-check'), 'dir');
    return dir;
  }
  for (const f of ['tests', 'traces']) symlinkSync(join(repo, f), join(dir, f), 'dir');
  return dir;
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(repo, 'docs'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', ...docs].filter((f) => docLines(readFileSync(join(repo, f), 'utf8')).length > 0);
}

describe('the npx pacta lines of README and docs run with the exit code they document', () => {
  let ran = 0;
  for (const doc of markdownFiles()) {
    it(doc, { timeout: 60_000 }, async () => {
      const cwd = scratchFor(doc);
      const report: string[] = [];
      for (const l of docLines(readFileSync(join(repo, doc), 'utf8'))) {
        const why = notRun(l, cwd);
        if (why) continue;
        const exhaustive = l.argv[0] === 'check' && !l.argv.includes('random') && !l.argv.includes('--max-states');
        const argv = exhaustive ? [...l.argv, '--max-states', String(STATE_BUDGET)] : l.argv;
        const io = memoryIO(cwd);
        const t0 = performance.now();
        const code = await main(argv, io);
        if (process.env.PACTA_DOC_TIMES) console.log(`${((performance.now() - t0) / 1000).toFixed(2)} s ${doc}:${l.line} ${code}`);
        if (exhaustive && code === 3 && l.exit !== 3) continue; // a long run: not paid for here
        ran++;
        if (code !== l.exit) report.push(`${doc}:${l.line}: npx pacta ${l.argv.join(' ')} → exit ${code}, documented ${l.exit}\n${io.stderr.slice(0, 400)}`);
      }
      expect(report).toEqual([]);
    });
  }
  it('ran the cheap lines, not none', () => {
    expect(ran).toBeGreaterThanOrEqual(20);
  });
});
