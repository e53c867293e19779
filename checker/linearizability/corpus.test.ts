/**
 * Porcupine's test corpus: every etcd and kv history gets the verdict Porcupine's test suite
 * expects, every non-linearizable etcd history is explained, and every linearization found is
 * a valid one.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEtcdLog } from '../history/etcd-log.ts';
import type { History } from '../history/history.ts';
import { parseEdnKvHistory } from '../history/jepsen-edn.ts';
import { checkLinearizability, formatExplanation, type LinearizabilityResult } from './check-linearizability.ts';
import { kvModel } from '../../specs/core/models/kv.ts';
import { resolveModel, type SequentialModel } from './model.ts';
import { registerModel } from '../../specs/core/models/register.ts';
import { porcupineCorpus } from '../../tests/fixtures/porcupine.ts';

const anchors = porcupineCorpus;
const expected = readFileSync(`${anchors}expected.csv`, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','))
  .map(([file, ops, linearizable]) => ({ file: file!, ops: Number(ops), linearizable: linearizable === 'true' }));

/**
 * Replays `order` (operation ids) on the model; returns the first problem (an operation placed
 * after one that was called after it returned, or an illegal step), or null.
 */
function replay<S, I, O>(history: History<I, O>, model: SequentialModel<S, I, O>, order: readonly number[], key?: string | number): string | null {
  const m = resolveModel(model);
  let state = m.init();
  let latestCall = -Infinity; // latest call time among the operations placed so far
  for (const id of order) {
    const op = history.operations[id]!;
    if (key !== undefined && m.partition!(op.input) !== key) return `#${id} is not in partition ${key}`;
    if (op.return < latestCall) return `#${id} returned before an operation placed earlier was called`;
    const r = m.step(state, op.input, op.output);
    if (!r.ok) return `#${id} ${m.describeOperation(op.input, op.output)} is illegal in state ${m.describeState(state)}`;
    state = r.next;
    latestCall = Math.max(latestCall, op.call);
  }
  return null;
}

describe("Porcupine's corpus", () => {
  const results = new Map<string, { history: History; result: LinearizabilityResult }>();
  for (const { file } of expected) {
    const text = readFileSync(anchors + file, 'utf8');
    const history = file.startsWith('jepsen/') ? parseEtcdLog(text, file) : parseEdnKvHistory(text, file);
    const result = file.startsWith('jepsen/')
      ? checkLinearizability(history as History<never, never>, registerModel as SequentialModel<unknown, never, never>, { timeLimitSeconds: 30 })
      : checkLinearizability(history as History<never, never>, kvModel as SequentialModel<unknown, never, never>, { timeLimitSeconds: 30 });
    results.set(file, { history, result });
  }

  it('covers the 102 etcd and 6 kv histories', () => {
    expect(expected.filter((e) => e.file.startsWith('jepsen/')).length).toBe(102);
    expect(expected.filter((e) => e.file.startsWith('kv/')).length).toBe(6);
  });

  it('gives the expected verdict for every history', () => {
    const mismatches = expected
      .map(({ file, linearizable }) => ({ file, expected: linearizable ? 'linearizable' : 'not-linearizable', got: results.get(file)!.result.result }))
      .filter((r) => r.expected !== r.got);
    expect(mismatches).toEqual([]);
    for (const { file, ops } of expected) expect(results.get(file)!.result.operations, file).toBe(ops);
  });

  it('finds valid linearizations for the linearizable ones', () => {
    for (const { file, linearizable } of expected) {
      if (!linearizable) continue;
      const { history, result } = results.get(file)!;
      const model = (file.startsWith('jepsen/') ? registerModel : kvModel) as SequentialModel<unknown, unknown, unknown>;
      const all = result.linearization!.flat();
      expect(new Set(all).size, file).toBe(history.operations.length);
      for (const part of result.linearization!) {
        const key = part.length > 0 && model.partition ? model.partition(history.operations[part[0]!]!.input) : undefined;
        expect(replay(history, model, part, key), file).toBeNull();
      }
    }
  });

  it('explains every non-linearizable etcd history with its longest linearizable prefix', () => {
    for (const { file, linearizable } of expected) {
      if (linearizable || !file.startsWith('jepsen/')) continue;
      const { history, result } = results.get(file)!;
      const e = result.explanation!;
      expect(e, file).toBeDefined();
      expect(e.partition).toBeNull();
      // the prefix really is a linearization of the operations it contains
      expect(replay(history, registerModel as SequentialModel<unknown, unknown, unknown>, e.longestPrefix.map((o) => o.id)), file).toBeNull();
      // the blocked operation is pending (not in the prefix) and among those that cannot be placed
      expect(e.longestPrefix.map((o) => o.id)).not.toContain(e.blocked.id);
      expect(e.cannotPlace.map((o) => o.id)).toContain(e.blocked.id);
      expect(e.blocked.callLine).toBeGreaterThan(0);
      const text = formatExplanation(e);
      expect(text).toContain(`Longest linearizable prefix (${e.longestPrefix.length} operations`);
      expect(text).toContain(e.blocked.description);
    }
  });
});
