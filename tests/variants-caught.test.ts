/**
 * Every bundled broken variant is caught by a bare `pacta check SPEC:VARIANT`: the params and
 * options that expose its bug travel with the variant (`expose`), so a user who tries one sees
 * the bug, not "ok". Walks the whole catalogue, so a new spec's variants are held to it too.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { memoryIO } from '../cli/io.ts';
import { bundledSpecs } from '../specs/catalogue.ts';

const out = mkdtempSync(join(tmpdir(), 'pacta-variants-'));
const catalogue = await Promise.all(Object.entries(bundledSpecs).map(async ([name, entry]) => ({ name, protocol: await entry.load() })));

describe('a bare check of every bundled variant exits 1', () => {
  for (const { name, protocol } of catalogue) {
    for (const variant of Object.keys(protocol.variants ?? {})) {
      it(`${name}:${variant}`, async () => {
        const io = memoryIO();
        const code = await main(['check', `${name}:${variant}`, '--json', '--workers', '1', '--out', out], io);
        const report = JSON.parse(io.stdout) as { result: string; violation?: { kind: string; length: number | null } };
        expect({ code, result: report.result }).toEqual({ code: 1, result: 'violation' });
        // An invariant broken on a path (or a liveness property on a lasso), not a goal missed: the variant shows its bug.
        expect(['invariant', 'eventually', 'leadsTo', 'alwaysEventually', 'eventuallyAlways']).toContain(report.violation?.kind);
        expect(report.violation?.length).toBeGreaterThan(0);
      }, 120_000);
    }
  }
});
