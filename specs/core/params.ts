/**
 * Param resolution, one rule for the checker (`--param`, `check({ params })`), the executor
 * (`startCluster({ params })`) and trace files: an override must name a param the spec declares
 * and have the type of its default, and fit the range the spec declares for it (checked here,
 * before any node, state or store is made from the value).
 */
import { paramRuleProblem, type Params, type ParamValue, type Protocol } from './protocol.ts';

/** A param override that does not fit the spec: unknown name or wrong type. */
export class ParamError extends Error {
  override readonly name = 'ParamError';
}

function unknownParam(protocol: Protocol, k: string): ParamError {
  const known = Object.keys(protocol.params);
  return new ParamError(`spec '${protocol.name}' has no param '${k}'` + (known.length ? ` (params: ${known.join(', ')})` : ' (it takes none)'));
}

/** The spec's params with `overrides` applied; each override must name a param and match its type. */
export function resolveParams(protocol: Protocol, overrides: Readonly<Record<string, ParamValue>> = {}): Params {
  const out: Params = { ...protocol.params };
  for (const [k, v] of Object.entries(overrides)) {
    if (!Object.hasOwn(protocol.params, k)) throw unknownParam(protocol, k);
    const expected = typeof protocol.params[k];
    if (typeof v !== expected || (expected === 'number' && !Number.isFinite(v))) {
      throw new ParamError(`param '${k}' must be a ${expected === 'number' ? 'finite number' : expected}, got ${JSON.stringify(v)}`);
    }
    const problem = paramRuleProblem(protocol.paramRules?.[k], v);
    if (problem) throw new ParamError(`param '${k}' ${problem}, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  // Validators judge the params together (groups × replicas): after every override is in.
  for (const [k, rule] of Object.entries(protocol.paramRules ?? {})) {
    if (!rule.validate) continue;
    const problem = rule.validate(out[k]!, out);
    if (problem) throw new ParamError(`param '${k}' ${problem}, got ${JSON.stringify(out[k])}`);
  }
  return out;
}

/** Parses a `k=v` override by the type of the param's default. */
export function parseParam(protocol: Protocol, text: string): [string, ParamValue] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ParamError(`--param expects k=v, got '${text}'`);
  const k = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  if (!Object.hasOwn(protocol.params, k)) throw unknownParam(protocol, k);
  const d = protocol.params[k];
  if (typeof d === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ParamError(`param '${k}' must be a number, got '${raw}'`);
    return [k, n];
  }
  if (typeof d === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw new ParamError(`param '${k}' must be true or false, got '${raw}'`);
    return [k, raw === 'true'];
  }
  return [k, raw];
}
