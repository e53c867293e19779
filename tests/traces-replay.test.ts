/**
 * `pacta replay`: every checked-in example under traces/examples/ replays; tampered copies are
 * rejected (exit 1) with the number of the first divergent step; traces that do not fit their
 * spec are bad input (exit 2).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { memoryIO } from '../cli/io.ts';
import type { TraceFile } from '../traces/format.ts';

const examples = join(import.meta.dirname, '..', 'traces', 'examples');
const files = readdirSync(examples).filter((f) => f.endsWith('.json')).sort();
const scratch = mkdtempSync(join(tmpdir(), 'pacta-replay-'));

async function pacta(...args: string[]) {
  const io = memoryIO(scratch);
  const code = await main(args, io);
  return { code, out: io.stdout, err: io.stderr };
}

/** Writes a modified copy of an example and returns its path. */
function tampered(file: string, edit: (t: TraceFile) => void): string {
  const trace = JSON.parse(readFileSync(join(examples, file), 'utf8')) as TraceFile;
  edit(trace);
  const out = join(scratch, `tampered-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(out, JSON.stringify(trace));
  return out;
}

describe('pacta replay', () => {
  it('the examples cover every two-phase broken variant', () => {
    expect(files.filter((f) => f.startsWith('two-phase.'))).toEqual(['two-phase.abort-after-commit.json', 'two-phase.blocking.json', 'two-phase.commit-early.json', 'two-phase.rm-ignores-abort.json', 'two-phase.volatile-rm.json']);
  });

  for (const file of files) {
    it(`accepts ${file}, and rejects tampered copies at the first divergent step`, async () => {
      const ok = await pacta('replay', join(examples, file));
      expect(ok.err).toBe('');
      expect(ok.code).toBe(0);
      const trace = JSON.parse(readFileSync(join(examples, file), 'utf8')) as TraceFile;
      if (trace.loopStart !== undefined) {
        // A lasso (liveness): the cycle returns to its first state and the property stays unsatisfied.
        expect(ok.out).toMatch(/replays: all \d+ steps reproduce their fingerprints, (the run stays at step \d+ forever|the cycle \(steps \d+\.\.\d+\) returns to the state of step \d+), and "[^"]+" stays unsatisfied along the lasso/);
        const last = trace.steps.length - 1;
        const wrongLoop = await pacta('replay', tampered(file, (t) => (t.loopStart = 0)));
        expect(wrongLoop.code).toBe(1);
        expect(wrongLoop.out).toMatch(new RegExp(`diverges at step ${last}: the cycle does not return to its first state \\(step 0\\)`));
        const cut = await pacta('replay', tampered(file, (t) => t.steps.splice(t.loopStart!)));
        expect(cut.code).toBe(2);
        expect(cut.err).toMatch(/"loopStart" is \d+, past the last step/);
        const v1 = await pacta('replay', tampered(file, (t) => (t.version = 1)));
        expect(v1.code).toBe(2);
        expect(v1.err).toMatch(/"loopStart" \(a lasso\) needs format version 2/);
        return;
      }
      expect(ok.out).toMatch(/replays: all \d+ steps reproduce their fingerprints, and the final state violates "[^"]+"/);

      const n = trace.steps.length - 1;
      const mid = Math.max(1, Math.floor(n / 2));

      // A wrong fingerprint at step `mid`.
      const fp = await pacta('replay', '--json', tampered(file, (t) => (t.steps[mid]!.fingerprint = '0123456789abcdef')));
      expect(fp.code).toBe(1);
      expect(JSON.parse(fp.out)).toMatchObject({ replayed: false, divergence: { step: mid, expected: '0123456789abcdef' } });

      // A step removed: the next event no longer leads to the recorded state (or is not enabled).
      const cut = await pacta('replay', tampered(file, (t) => t.steps.splice(mid, 1)));
      expect(cut.code).toBe(1);
      expect(cut.out).toMatch(new RegExp(`diverges at step ${mid}: `));

      // An event that is not enabled: an action of a role that has no such action.
      const first = trace.steps[0]!.state.nodes[0]!;
      const bogus = await pacta('replay', tampered(file, (t) => (t.steps[mid]!.event = { kind: 'action', node: 0, action: 'teleport' })));
      expect(bogus.code).toBe(1);
      expect(bogus.out).toMatch(new RegExp(`diverges at step ${mid}: ${first.name}: teleport is not enabled: role ${first.role} has no action "teleport"`));

      // The recorded state edited (a node's final state swapped for its initial one), fingerprint left alone.
      const k = trace.steps[n]!.state.nodes.findIndex((node, i) => JSON.stringify(node.state) !== JSON.stringify(trace.steps[0]!.state.nodes[i]!.state));
      if (k >= 0) {
        const node = trace.steps[n]!.state.nodes[k]!;
        const edited = await pacta('replay', tampered(file, (t) => (t.steps[n]!.state.nodes[k]!.state = trace.steps[0]!.state.nodes[k]!.state)));
        expect(edited.code).toBe(1);
        expect(edited.out).toMatch(new RegExp(`diverges at step ${n}: .*state recorded in the trace differs[\\s\\S]*${node.name}`));
      }

      // The final state cut off before the violation.
      const early = await pacta('replay', tampered(file, (t) => t.steps.pop()));
      expect(early.code).toBe(1);
      expect(early.out).toMatch(new RegExp(`diverges at step ${n - 1}: the final state does not violate`));
    });
  }

  it('a divergence names the fields that differ, expected vs got', async () => {
    // Step 1 of commit-early is the TM's commit; claim it was an abort instead.
    const r = await pacta('replay', tampered('two-phase.commit-early.json', (t) => (t.steps[1]!.event = { kind: 'action', node: 0, action: 'abort' })));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/diverges at step 1: tm: abort leads to a different state than the trace recorded/);
    expect(r.out).toMatch(/fingerprint: expected [0-9a-f]{16}, got [0-9a-f]{16}/);
    expect(r.out).toMatch(/tm.phase: expected committed, got aborted/);
  });

  it('a trace that does not fit its spec is bad input (exit 2)', async () => {
    const cases: [string, (t: TraceFile) => void, RegExp][] = [
      ['unknown spec', (t) => (t.spec = 'no-such-spec'), /names spec "no-such-spec".*cannot be loaded: unknown spec/],
      ['unknown variant', (t) => (t.variant = 'nope'), /variant "nope", which cannot be loaded: .*no variant 'nope'/],
      ['params that change the nodes', (t) => (t.params = { rms: 4 }), /the trace's nodes \(tm, rm1, rm2, rm3\) are not the spec's under these params \(tm, rm1, rm2, rm3, rm4\)/],
      ['unknown param', (t) => (t.params = { replicas: 3 }), /has no param 'replicas'/],
      ['unknown property', (t) => (t.property = { name: 'liveness', kind: 'invariant' }), /violates "liveness", but the spec has no such invariant/],
    ];
    for (const [what, edit, message] of cases) {
      const r = await pacta('replay', tampered('two-phase.commit-early.json', edit));
      expect(r.code, what).toBe(2);
      expect(r.err, what).toMatch(message);
      expect(r.err, what).not.toMatch(/\n\s+at /);
    }
  });
});
