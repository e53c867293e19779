/**
 * Every relative link in the project's Markdown (README, docs/, specs' and examples' READMEs)
 * resolves: the file or folder exists, and a `#fragment` into a Markdown file names one of its
 * headings (GitHub's anchors). A guide that leads to a missing page loses the reader there.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');
const skip = new Set(['node_modules', 'dist', '.git', 'pacta-traces']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (skip.has(e.name) || e.isSymbolicLink()) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(path);
    return e.name.endsWith('.md') ? [path] : [];
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2... */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const m of text.matchAll(/^#{1,6}\s+(.*?)\s*#*$/gm)) {
    const slug = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Links `[text](target)` outside code, relative (no scheme, no leading slash). */
function relativeLinks(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l) && !l.startsWith('/'));
}

describe('relative links in Markdown', () => {
  const files = markdownFiles(repo);
  it('finds the guides', () => {
    expect(files.map((f) => relative(repo, f))).toEqual(expect.arrayContaining(['README.md', 'docs/cli.md', 'docs/api.md']));
  });
  for (const file of files) {
    it(`${relative(repo, file)}: every relative link resolves`, () => {
      const text = readFileSync(file, 'utf8');
      const broken: string[] = [];
      for (const link of relativeLinks(text)) {
        const [path, fragment] = link.split('#') as [string, string | undefined];
        const target = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
        if (!existsSync(target)) {
          broken.push(`${link}: no such file`);
          continue;
        }
        if (fragment && target.endsWith('.md') && statSync(target).isFile() && !anchors(readFileSync(target, 'utf8')).has(fragment)) {
          broken.push(`${link}: no heading with anchor #${fragment}`);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});
