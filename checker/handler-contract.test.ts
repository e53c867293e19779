/**
 * A spec that breaks the handler contract is told so, the same way by every explorer: a handler
 * that mutates its input state, and a guard that is not deterministic (Math.random()), give an
 * `error` result naming the node, the role and the handler (the CLI's exit 4), in BFS, DFS and
 * random mode. Before this check, a mutating handler made BFS report an internal error and
 * random mode a violation of a correct spec.
 */
import { describe, expect, it } from 'vitest';
import { protocol, t } from '../specs/core/index.ts';
import { checkSync } from './check.ts';

const spec = protocol({ name: 'voters', params: {}, messages: t.union('kind', { vote: {} }) });

const Voter = t.struct({ votes: t.array(t.node('voter')), n: t.u32 });

/** Voters count the votes they receive; `mutate` edits the input array instead of copying it. */
function voters(mutate: boolean, randomGuard = false) {
  const voter = spec.role(Voter)({
    count: 2,
    init: () => ({ votes: [], n: 0 }),
    onMessage: (s, from) => {
      if (s.votes.includes(from)) return s;
      if (mutate) {
        (s.votes as number[]).push(from);
        return { ...s };
      }
      return { ...s, votes: [...s.votes, from] };
    },
    actions: {
      vote: {
        when: (s) => s.n < 1 && (!randomGuard || Math.random() < 2),
        do: (s, out) => {
          out.broadcast('voter', { kind: 'vote' });
          return { ...s, n: s.n + 1 };
        },
      },
      ...(randomGuard ? { flaky: { when: () => Math.random() < 0.5, do: (s: typeof Voter.__type) => s } } : {}),
    },
  });
  return spec.define({ roles: { voter }, properties: () => [] });
}

describe('handlers that break the contract', () => {
  for (const mode of ['bfs', 'dfs', 'random'] as const) {
    it(`a handler that mutates its state is reported by ${mode}`, () => {
      const r = checkSync(voters(true), { mode });
      expect(r.result).toBe('error');
      if (r.result === 'error') expect(r.error).toMatch(/^voter\d \(voter\.onMessage\) mutated its state/);
    });

    it(`a guard that reads Math.random() is reported by ${mode}, on every run`, () => {
      // vote's guard reads Math.random() but always gives the same answer: running it twice
      // cannot tell; watching what it calls does, the first time it runs.
      for (let i = 0; i < 5; i++) {
        const r = checkSync(voters(false, true), { mode, ...(mode === 'random' ? { seed: i } : {}) });
        expect(r.result).toBe('error');
        if (r.result === 'error') expect(r.error).toMatch(/^voter\d \(voter\.(vote|flaky)\.when\) called Math\.random\(\): a handler must be deterministic/);
      }
    });
  }

  it('the same spec without the mutation passes, and the check can be turned off', () => {
    expect(checkSync(voters(false)).result).toBe('ok');
    expect(checkSync(voters(true), { checkDeterminism: 0 }).result).not.toBe('error');
  });
});
