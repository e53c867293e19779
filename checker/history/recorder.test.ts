import { describe, expect, it } from 'vitest';
import { HistoryCheckerError } from './errors.ts';
import { HistoryRecorder } from './recorder.ts';

const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof HistoryCheckerError) return e.code;
    throw e;
  }
  throw new Error('expected a HistoryCheckerError');
};

describe('HistoryRecorder', () => {
  it('records completed, crashed and still pending operations', () => {
    const r = new HistoryRecorder<string, number>();
    const a = r.invoke('c1', 'read', 1);
    const b = r.invoke('c2', 'write', 2);
    r.complete(a, 7, 3);
    r.crash(b);
    const c = r.invoke('c2', 'read', 4); // a crashed client may go on
    expect(r.pendingOf('c2')).toBe(c);
    expect(r.pendingCount).toBe(1);
    expect(r.history().operations).toEqual([
      { id: 0, process: 'c1', input: 'read', output: 7, call: 1, return: 3 },
      { id: 1, process: 'c2', input: 'write', output: undefined, call: 2, return: Infinity },
      { id: 2, process: 'c2', input: 'read', output: undefined, call: 4, return: Infinity },
    ]);
  });

  it('clones independently', () => {
    const r = new HistoryRecorder<string, string>();
    const a = r.invoke(0, 'x', 0);
    const copy = r.clone();
    copy.complete(a, 'y', 1);
    expect(r.history().operations[0]!.output).toBeUndefined();
    expect(copy.history().operations[0]!.output).toBe('y');
  });

  it('rejects misuse with stable codes', () => {
    const r = new HistoryRecorder<string, string>();
    const a = r.invoke(0, 'x', 5);
    expect(code(() => r.invoke(0, 'y', 6))).toBe('HistoryRecorder.invoke/process-busy');
    expect(code(() => r.complete(a, 'z', 4))).toBe('HistoryRecorder.complete/bad-time');
    expect(code(() => r.complete(9, 'z', 6))).toBe('HistoryRecorder.complete/unknown-operation');
    expect(code(() => r.complete(a, undefined as unknown as string, 6))).toBe('HistoryRecorder.complete/undefined-output');
    r.complete(a, 'z', 6);
    expect(code(() => r.crash(a))).toBe('HistoryRecorder.crash/not-pending');
    expect(code(() => r.invoke(1, 'x', Number.NaN))).toBe('HistoryRecorder.invoke/bad-time');
  });
});
