/**
 * The README leads to every guide: each Markdown file in docs/ and docs/protocols/, and the
 * examples, is linked from it, and every relative link in it points at a file that exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));

describe('README links', () => {
  it('every relative link resolves', () => {
    const broken = links.filter((l) => !existsSync(join(repo, l.split('#')[0]!)));
    expect(broken).toEqual([]);
  });
  it('links every guide, protocol doc and the examples', () => {
    const guides = [
      ...readdirSync(join(repo, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
      ...readdirSync(join(repo, 'docs', 'protocols')).filter((f) => f.endsWith('.md')).map((f) => `docs/protocols/${f}`),
      'docs/examples/', 'docs/examples/own-protocol/',
    ];
    const linked = new Set(links.map((l) => l.split('#')[0]));
    expect(guides.filter((g) => !linked.has(g))).toEqual([]);
  });
});
