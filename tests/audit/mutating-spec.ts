/**
 * A spec that breaks the handler contract, for the issue-25 audit script (issue-25.sh): each
 * voter counts the votes it receives by pushing onto its input state's array (a mutation)
 * instead of copying it. Every explorer must say so (exit 4), not report an internal error or a
 * false violation.
 */
import { protocol, t } from 'pacta-check';

const spec = protocol({ name: 'audit-voters', params: {}, messages: t.union('kind', { vote: {} }) });
const Voter = t.struct({ votes: t.array(t.node('voter')), n: t.u32 });

const voter = spec.role(Voter)({
  count: 2,
  init: () => ({ votes: [], n: 0 }),
  onMessage: (s, from) => {
    if (s.votes.includes(from)) return s;
    (s.votes as number[]).push(from);
    return { ...s };
  },
  actions: {
    vote: {
      when: (s) => s.n < 1,
      do: (s, out) => {
        out.broadcast('voter', { kind: 'vote' });
        return { ...s, n: s.n + 1 };
      },
    },
  },
});

export default spec.define({ roles: { voter }, properties: () => [] });
