/** The spec contract: what every protocol is written against. */
export { t, Schema, SchemaError, NodeSchema, UnionSchema, structFields, structFieldSchemas, arrayItemSchema } from './schema.ts';
export type { Infer, InferFields, InferUnion, Fields, NodeId, Json } from './schema.ts';
export { Writer, Reader, DecodeError, EncodeError, compareBytes, equalBytes } from './bytes.ts';
export {
  protocol, defineProtocol, invariant, reachable, linearizable, transactional, eventually, leadsTo, alwaysEventually, eventuallyAlways, isProtocol, SpecError,
  refuse, isRefusal, DAMAGE_KINDS, SESSION_REGISTER_ID, SESSION_IDS,
} from './protocol.ts';
export type {
  Protocol, ProtocolDef, RoleDef, AnyRole, ActionDef, ClientsDef, Ctx, Out, Request, RequestRef, Interval,
  Params, ParamValue, ParamDecl, ParamDecls, ParamRule, ParamsOf, Property, LinearizableProperty, LivenessProperty, LivenessOptions, SpecProperty,
  VariantDef, RoleOverride, Exposure, ExposeOptions,
  TransactionalProperty, TransactionRecord, TransactionMicroOp, IsolationLevel, DamageKind, RecoveryDamage, Refusal,
} from './protocol.ts';
export { add, remove, has, put, del, setAt, compareValues, equalValues, unreachable } from './collections.ts';
export type { WorldReader, StateTest, HistoryEntry } from './world-reader.ts';
export { ILLEGAL } from './sequential-model.ts';
export type { SequentialModel, StepResult } from './sequential-model.ts';
export { kvModel, type KvState } from './models/kv.ts';
export { registerModel, type RegisterState } from './models/register.ts';
export type { KvInput, KvOutput, RegisterInput, RegisterOutput, RegisterValue } from './models/operations.ts';
