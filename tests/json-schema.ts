/**
 * Validation of pacta's documented JSON (trace files, `--json` output) against its schemas in
 * docs/, with Ajv (JSON Schema draft 2020-12, strict: a keyword Ajv does not know fails loudly).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';

type Schema = Record<string, any>;

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });

/**
 * Validates `value` against `schema`, which is `root` or one of its `$defs` (its `$ref`s resolve
 * in `root`); returns the errors, each as its JSON path and message (empty: valid).
 */
export function validateJson(value: unknown, schema: Schema, root: Schema = schema): string[] {
  const id: string = root.$id;
  if (!id) throw new Error('validateJson: the root schema needs an $id');
  if (!ajv.getSchema(id)) ajv.addSchema(root);
  let ref = id;
  if (schema !== root) {
    const def = Object.entries(root.$defs ?? {}).find(([, s]) => s === schema)?.[0];
    if (def === undefined) throw new Error('validateJson: the schema is neither the root nor one of its $defs');
    ref = `${id}#/$defs/${def}`;
  }
  const validate = ajv.getSchema(ref)!;
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `$${e.instancePath.replaceAll('/', '.')}: ${e.message ?? e.keyword}`);
}
