/**
 * A spec that breaks the handler contract, for the issue-25 audit script (issue-25.sh): a guard
 * that reads Math.random(), so the same state enables different actions on different calls. The
 * determinism check must report it (exit 4).
 */
import { protocol, t } from 'pacta-check';

const spec = protocol({ name: 'audit-flaky', params: {}, messages: t.union('kind', { ping: {} }) });

const node = spec.role(t.u32)({
  count: 1,
  init: () => 0,
  actions: {
    step: { when: (s) => s < 3 && Math.random() < 0.5, do: (s) => s + 1 },
  },
});

export default spec.define({ roles: { node }, properties: () => [] });
