/** Histories of operations: types, readers (etcd logs, Jepsen EDN, JSON), and the recorder. */
export { HistoryCheckerError, HistoryFormatError } from './errors.ts';
export { isIndeterminate, makeHistory, precedes } from './history.ts';
export type { History, Operation, OperationInit, OperationSource, ProcessId } from './history.ts';
export { HistoryRecorder } from './recorder.ts';
export {
  decodeKvInput,
  decodeKvOutput,
  decodeRegisterInput,
  decodeRegisterOutput,
  kvDecoder,
  registerDecoder,
} from './operations.ts';
export type { Decoded, KvInput, KvOutput, OperationDecoder, RegisterInput, RegisterOutput, RegisterValue } from './operations.ts';
export { parseEtcdLog } from './etcd-log.ts';
export {
  jepsenKvDecoder,
  jepsenRegisterDecoder,
  pairJepsenEvents,
  parseEdnKvHistory,
  parseEdnRegisterHistory,
  parseJepsenEvents,
} from './jepsen-edn.ts';
export type { JepsenDecoder, JepsenEvent } from './jepsen-edn.ts';
export { formatJsonHistory, JSON_HISTORY_FORMAT, parseJsonHistory } from './json-history.ts';
