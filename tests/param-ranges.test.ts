/**
 * Every param of every bundled spec declares what it accepts (issue 25: "params declare ranges
 * ... checked before anything is allocated"): a number has a min and a max, a string a list of
 * values or a validator; booleans need neither. Walks the whole catalogue, so a new spec or
 * param without a range fails here. The ranges must also admit what the project itself uses:
 * every variant's exposed params and every example trace's params.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledSpecs } from '../specs/catalogue.ts';
import { ParamError, resolveParams } from '../specs/core/params.ts';
import type { Params, Protocol } from '../specs/core/protocol.ts';

const catalogue = await Promise.all(Object.entries(bundledSpecs).map(async ([name, entry]) => ({ name, protocol: (await entry.load()) as Protocol })));

/** What `value` (a param's default) lacks for a declared range, or null. */
function missing(protocol: Protocol, param: string): string | null {
  const value = protocol.params[param];
  const rule = protocol.paramRules?.[param];
  if (typeof value === 'boolean') return null;
  if (typeof value === 'number') return rule?.min !== undefined && rule.max !== undefined ? null : `a number without ${rule?.min === undefined ? 'a min' : 'a max'}`;
  return rule?.oneOf !== undefined || rule?.validate !== undefined ? null : 'a string without oneOf or a validator';
}

describe('every bundled param declares a range', () => {
  for (const { name, protocol } of catalogue) {
    it(name, () => {
      const gaps = Object.keys(protocol.params).flatMap((p) => {
        const why = missing(protocol, p);
        return why ? [`${p}: ${why}`] : [];
      });
      expect(gaps).toEqual([]);
      // A value past the range is refused (a ParamError: exit 2 from the CLI), before any state exists.
      for (const [p, value] of Object.entries(protocol.params)) {
        const rule = protocol.paramRules?.[p];
        if (typeof value === 'number') expect(() => resolveParams(protocol, { [p]: rule!.max! + 1 })).toThrow(ParamError);
        if (typeof value === 'string') expect(() => resolveParams(protocol, { [p]: 'no such value,x' })).toThrow(ParamError);
      }
    });
  }
});

describe('the ranges admit what the project uses', () => {
  it("every variant's exposed params", () => {
    for (const { name, protocol } of catalogue) {
      for (const variant of Object.keys(protocol.variants ?? {})) {
        const params = (protocol.variant(variant).exposure?.params ?? {}) as Params;
        expect(() => resolveParams(protocol, params), `${name}:${variant}`).not.toThrow();
      }
    }
  });

  it("every example trace's params", () => {
    const dir = join(import.meta.dirname, '..', 'traces', 'examples');
    const byName = new Map(catalogue.map((c) => [c.name, c.protocol]));
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const trace = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { spec: string; params: Params };
      const protocol = byName.get(trace.spec);
      if (!protocol) continue; // a trace of a spec file outside the catalogue (its own test covers it)
      expect(() => resolveParams(protocol, trace.params), file).not.toThrow();
    }
  });

  it('spanner bounds groups × replicas together (every replica is a node)', () => {
    const spanner = catalogue.find((c) => c.name === 'spanner')!.protocol;
    expect(() => resolveParams(spanner, { groups: 16, replicas: 16 })).toThrow(/param 'groups' must keep groups × replicas at most 255 \(16 × 16\), got 16/);
    expect(resolveParams(spanner, { groups: 5, replicas: 51 })).toMatchObject({ groups: 5, replicas: 51 });
    const tla = catalogue.find((c) => c.name === 'percolator-tla')!.protocol;
    expect(() => resolveParams(tla, { keys: 3, primaries: '1,4' })).toThrow(/param 'primaries' must be a comma-separated list of keys from 1 to keys \(3\); '4' is not one/);
    expect(resolveParams(tla, { clients: 3, keys: 3, primaries: '1,1,1' })).toMatchObject({ primaries: '1,1,1' });
  });
});
