/**
 * The package's public surface, pinned: the runtime names each entry point exports. A change to
 * this list is a change to the API — make it here on purpose, in the same commit, and say why.
 * (Type-only exports are not visible at run time; `npm run typecheck` and the docs cover them.)
 */
import { describe, expect, it } from 'vitest';

const entries = {
  'pacta-check': () => import('../specs/index.ts'),
  'pacta-check/checker': () => import('../checker/index.ts'),
  'pacta-check/impl': () => import('../impl/index.ts'),
  'pacta-check/traces': () => import('../traces/index.ts'),
};

const pinned: Record<keyof typeof entries, string[]> = {
  'pacta-check': [
    // refuse/isRefusal: a role's onRecover answers with them; SESSION_*: the request ids of client sessions (issue 24).
    'ILLEGAL', 'SESSION_IDS', 'SESSION_REGISTER_ID', 'SchemaError', 'SpecError', 'add', 'alwaysEventually', 'bundledSpecs', 'compareValues',
    'defineProtocol', 'del', 'equalValues', 'eventually', 'eventuallyAlways', 'has', 'invariant', 'isRefusal', 'kvModel', 'leadsTo', 'linearizable', 'loadBundledSpec',
    'protocol', 'put', 'reachable', 'refuse', 'registerModel', 'remove', 'setAt', 't', 'transactional', 'unreachable',
  ],
  'pacta-check/checker': [
    'CONSISTENCY_MODELS', 'HistoryCheckerError', 'HistoryFormatError', 'HistoryRecorder',
    'JSON_HISTORY_FORMAT', 'JSON_TRANSACTIONS_FORMAT', 'OptionsError', 'SpecCheckFailure', 'assertSpec',
    'atomicCommit', 'check', 'checkAtomicCommit', 'checkAtomicCommitEvents', 'checkLinearizability',
    'checkSync', 'checkTransactions', 'commitRunFromEvents', 'formatAnomaly', 'formatExplanation',
    'formatJsonHistory', 'kvModel', 'makeHistory', 'makeTransactionHistory', 'parseEdnKvHistory',
    'parseEdnRegisterHistory', 'parseEdnTransactions', 'parseEtcdLog', 'parseJsonHistory',
    'parseJsonTransactions', 'registerModel', 'wholeObjectModel',
  ],
  'pacta-check/impl': [
    // SessionTimeout: a call whose client could not register its session (issue 24).
    'ClusterClient', 'ClusterLayout', 'FrameError', 'HistoryLog', 'InvokeTimeout', 'MemoryNetwork',
    'NodeFailure', 'NodeRuntime', 'SessionTimeout', 'UsageError', 'compareHlc', 'connectClient', 'fileStore', 'hlc',
    'replayOnExecutor', 'simulatedClock', 'startCluster', 'startNode', 'systemClock', 'tcpTransport',
    'trueTime', 'udpTransport',
  ],
  'pacta-check/traces': [
    'ReplayMismatch', 'TRACE_FORMAT', 'TRACE_VERSION', 'TraceError', 'describeEvent', 'formatTrace',
    'minimizeTrace', 'parseTrace', 'replayTrace', 'timeline', 'toHtml', 'toItf', 'toMermaid', 'validateTrace',
  ],
};

describe('the public API', () => {
  for (const [name, load] of Object.entries(entries) as [keyof typeof entries, () => Promise<object>][]) {
    it(`${name} exports exactly the pinned names`, async () => {
      expect(Object.keys(await load()).sort()).toEqual(pinned[name]);
    });
  }
  it('internals stay internal', async () => {
    const checker = await entries['pacta-check/checker']();
    for (const internal of ['World', 'Model', 'StateStore', 'Symmetry', 'Walker', 'parallelBfs', 'normalizeOptions']) expect(checker).not.toHaveProperty(internal);
  });
});
