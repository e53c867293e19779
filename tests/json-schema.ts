/**
 * A small JSON Schema validator for the tests that hold pacta's documented JSON (trace files,
 * `--json` output) to their schemas in docs/: the subset those schemas use (type, const, enum,
 * required, properties, additionalProperties, items, minItems, minLength, pattern, minimum,
 * oneOf, and `$ref` into the same document). Not a library: a schema that uses more fails loudly.
 */
type Schema = Record<string, any>;

const SUPPORTED = new Set([
  '$schema', '$id', '$ref', '$defs', 'title', 'description', 'type', 'const', 'enum', 'required', 'properties',
  'additionalProperties', 'items', 'minItems', 'minLength', 'pattern', 'minimum', 'oneOf', 'examples',
]);

/**
 * Validates `value` against `schema`, whose `$ref`s resolve in `root` (default: `schema` itself,
 * else the document `schema` is a part of); returns the errors, by JSON path.
 */
export function validateJson(value: unknown, schema: Schema, root: Schema = schema): string[] {
  const resolveRef = (ref: string): Schema => {
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
    return ref.slice(2).split('/').reduce((node: Schema, key) => node[key], root);
  };
  const validate = (v: unknown, s: Schema, at: string, errors: string[]): string[] => {
    for (const k of Object.keys(s)) if (!SUPPORTED.has(k)) throw new Error(`${at}: the test validator does not support '${k}'`);
    if (s.$ref) return validate(v, resolveRef(s.$ref), at, errors);
    const typeOf = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'array' : Number.isInteger(x) ? 'integer' : typeof x);
    if (s.type) {
      const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
      const actual = typeOf(v);
      if (!types.some((t) => t === actual || (t === 'number' && actual === 'integer'))) errors.push(`${at}: type ${actual}, expected ${types.join('|')}`);
    }
    if ('const' in s && JSON.stringify(v) !== JSON.stringify(s.const)) errors.push(`${at}: expected const ${JSON.stringify(s.const)}`);
    if (s.enum && !s.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) errors.push(`${at}: not in enum`);
    if (typeof v === 'string') {
      if (s.minLength !== undefined && v.length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
      if (s.pattern && !new RegExp(s.pattern).test(v)) errors.push(`${at}: does not match ${s.pattern}`);
    }
    if (typeof v === 'number' && s.minimum !== undefined && v < s.minimum) errors.push(`${at}: below ${s.minimum}`);
    if (Array.isArray(v)) {
      if (s.minItems !== undefined && v.length < s.minItems) errors.push(`${at}: fewer than ${s.minItems} items`);
      if (s.items) v.forEach((x, i) => validate(x, s.items, `${at}[${i}]`, errors));
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      for (const r of s.required ?? []) if (!(r in o)) errors.push(`${at}: missing ${r}`);
      for (const [k, x] of Object.entries(o)) {
        if (s.properties?.[k]) validate(x, s.properties[k], `${at}.${k}`, errors);
        else if (s.additionalProperties === false) errors.push(`${at}: unexpected property ${k}`);
        else if (typeof s.additionalProperties === 'object') validate(x, s.additionalProperties, `${at}.${k}`, errors);
      }
    }
    if (s.oneOf) {
      const passing = s.oneOf.filter((alt: Schema) => validate(v, alt, at, []).length === 0).length;
      if (passing !== 1) errors.push(`${at}: matches ${passing} of oneOf's ${s.oneOf.length} alternatives`);
    }
    return errors;
  };
  return validate(value, schema, '$', []);
}
