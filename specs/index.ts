/**
 * `pacta-check`: write a protocol — the spec contract (roles, schemas, handlers' effects, properties,
 * broken variants), the sequential models of history properties — and load the bundled ones.
 * Only spec authoring lives here: the checker is `pacta-check/checker`, the runtime `pacta-check/impl`,
 * traces `pacta-check/traces`.
 */
export {
  protocol, defineProtocol, invariant, reachable, linearizable, transactional, eventually, leadsTo, alwaysEventually, eventuallyAlways, SpecError,
  refuse, isRefusal, SESSION_IDS, SESSION_REGISTER_ID,
} from './core/protocol.ts';
export type {
  Protocol, ProtocolDef, RoleDef, ActionDef, ClientsDef, Ctx, Out, Request, RequestRef, Interval, Params, ParamValue,
  Property, LinearizableProperty, LivenessProperty, LivenessOptions, TransactionalProperty, TransactionRecord, TransactionMicroOp, IsolationLevel, SpecProperty,
  VariantDef, RoleOverride, Exposure, ExposeOptions, ParamDecl, ParamDecls, ParamRule, ParamsOf, DamageKind, RecoveryDamage, Refusal,
} from './core/protocol.ts';
export { t, SchemaError } from './core/schema.ts';
export type { Schema, Infer, InferFields, InferUnion, Fields, NodeId, Json } from './core/schema.ts';
export { add, remove, has, put, del, setAt, compareValues, equalValues, unreachable } from './core/collections.ts';
export type { WorldReader, StateTest, HistoryEntry } from './core/world-reader.ts';
export { ILLEGAL } from './core/sequential-model.ts';
export type { SequentialModel, StepResult } from './core/sequential-model.ts';
export { kvModel, type KvState } from './core/models/kv.ts';
export { registerModel, type RegisterState } from './core/models/register.ts';
export type { KvInput, KvOutput, RegisterInput, RegisterOutput, RegisterValue } from './core/models/operations.ts';
export { bundledSpecs, loadBundledSpec } from './catalogue.ts';
