// What running pacta from its TypeScript sources takes (the `pacta` command in a checkout whose
// build is missing or stale, and each worker thread of a parallel run started from the
// sources): tsx's loader, and the `pacta-source` export condition, so that a spec file's
// `import ... from 'pacta-check'` resolves to the sources as well and the spec shares the running
// copy of the library instead of loading the build beside it.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

const addCondition =
  'export async function resolve(s, c, next) { return next(s, { ...c, conditions: [...c.conditions, "pacta-source"] }); }';

/** Registers both; call it before importing any TypeScript module. */
export function registerSourceLoader() {
  registerTsx();
  // Registered after tsx, so it runs first: it adds the condition, then hands over to tsx.
  register(`data:text/javascript,${encodeURIComponent(addCondition)}`);
}
