/**
 * Vitess promises atomicity, not isolation: a scatter read may see one shard's half of a
 * transaction. The `vitess` spec states this as a reachable goal; this example turns the goal
 * into the invariant it refutes ("no scatter read sees part of a transaction") and checks it, so
 * that the checker returns the shortest witness as a trace, and prints it.
 *
 *   npx tsx --conditions=pacta-source docs/examples/vitess-partial-read.ts                     (the trace as text)
 *   npx tsx --conditions=pacta-source docs/examples/vitess-partial-read.ts --format mermaid    (as a Mermaid diagram)
 *
 * The same recipe gives a trace for any goal of any spec. Exit 0 when the witness is found.
 */
import { pathToFileURL } from 'node:url';
import { invariant, loadBundledSpec, type Protocol, type WorldReader } from 'pacta-check';
import { checkSync, type CheckResult } from 'pacta-check/checker';
import { formatTrace, toMermaid } from 'pacta-check/traces';

/** The params and options of the pinned configuration (docs/protocols/vitess.md). */
export const partialReadOptions = {
  params: { clients: 2, reads: true, singleShard: false, watchdog: false },
  network: 'bag',
  maxInFlight: 2,
} as const;

/** `spec` with its goal named `goal…` replaced by the invariant "never goal". */
export function refuteGoal(spec: Protocol, goal: string, name: string): Protocol {
  return {
    ...spec,
    properties: (p) => {
      const g = spec.properties!(p).find((x) => x.name.startsWith(goal));
      if (!g || g.kind !== 'reachable') throw new Error(`${spec.name} has no goal '${goal}…' with these params`);
      return [invariant(name, (w: WorldReader) => !g.check(w))];
    },
  };
}

/** Checks the refuted goal: a violation whose trace is the witness. */
export async function partialRead(): Promise<CheckResult> {
  const vitess = await loadBundledSpec('vitess');
  if (!vitess) throw new Error('the vitess spec is not bundled');
  const spec = refuteGoal(vitess, 'a scatter read sees a partially committed transaction', 'isolation: no scatter read sees part of a transaction');
  return checkSync(spec, partialReadOptions);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await partialRead();
  if (r.result !== 'violation' || !r.trace) {
    console.error(`no witness: ${r.result}`);
    process.exit(1);
  }
  const mermaid = process.argv.includes('--format') && process.argv[process.argv.indexOf('--format') + 1] === 'mermaid';
  console.log(mermaid ? toMermaid(r.trace) : formatTrace(r.trace));
}
