/**
 * What every `--json` object starts with, and the object a failed command prints under `--json`.
 * The fields are a contract with scripts and CI (docs/cli.md#json-output, pinned by
 * docs/json-output.schema.json and tests/json-output.test.ts): add fields, never rename them;
 * a change that must break them raises JSON_SCHEMA_VERSION.
 */
import { version } from './version.ts';

/** The version of the `--json` schema (docs/json-output.schema.json). */
export const JSON_SCHEMA_VERSION = 1;

/** The fields that open every `--json` object: which command printed it, under which schema, from which pacta. */
export function jsonHeader(command: string): { command: string; schemaVersion: number; pactaVersion: string } {
  return { command, schemaVersion: JSON_SCHEMA_VERSION, pactaVersion: version() };
}

/** Why a command stopped before its result: bad input or usage, a malformed spec, or pacta's own bug. */
export type JsonErrorKind = 'usage' | 'spec' | 'internal' | 'cluster';

/**
 * The line a command prints on stdout under `--json` when it stops with an error (the message
 * also goes to stderr, as without `--json`; the exit code is the same). A usage error's message
 * loses the usage text appended for people.
 */
export function jsonError(command: string, kind: JsonErrorKind, message: string, exitCode: number): string {
  const text = message.split(/\n\nusage: /)[0]!.trim();
  return `${JSON.stringify({ ...jsonHeader(command), error: { kind, message: text, exitCode } })}\n`;
}
