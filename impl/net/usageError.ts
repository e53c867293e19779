/**
 * Misuse of an executor API (a bad option, a call after `close()`): an `Error` whose `code` names
 * the function and the mistake, e.g. `udpTransport/bad-port`, so callers and tests can match on it
 * without parsing messages. Faults of the outside world (a bad frame, a torn log) are never
 * reported this way.
 *
 * Limitation: shared by impl/net, impl/clock and impl/storage; it lives here until impl gets a
 * common errors module.
 */
export class UsageError extends Error {
  /** Stable code: `<function>/<mistake>`. */
  readonly code: string;

  constructor(fn: string, mistake: string, message: string) {
    super(`${fn}: ${message}`);
    this.name = 'UsageError';
    this.code = `${fn}/${mistake}`;
  }
}

/** Throws a {@link UsageError} unless `value` is an integer in `[min, max]`. */
export function requireInt(fn: string, name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(fn, `bad-${kebab(name)}`, `${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
}

/** Throws a {@link UsageError} unless `value` is a finite number in `[min, max]`. */
export function requireNumber(fn: string, name: string, value: number, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(fn, `bad-${kebab(name)}`, `${name} must be a number in [${min}, ${max}], got ${String(value)}`);
  }
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
