/**
 * An event in words, the one way pacta says it: trace rendering, replay's divergence reports,
 * minimization and the executor's replay all print events through {@link eventText}.
 */
import { show } from './diff.ts';

/** Any trace event (the JSON form in trace files), or the initial step. */
export type EventLike = { readonly kind: string; readonly [key: string]: unknown };

/** `event` in words, with node ids turned into names by `name`. */
export function eventText(event: EventLike, name: (id: number) => string): string {
  const e = event as Record<string, unknown>;
  const n = (id: unknown) => (typeof id === 'number' ? name(id) : `node${String(id)}`);
  switch (e.kind) {
    case 'init':
      return 'initial state';
    case 'deliver':
      return `${n(e.from)} → ${n(e.to)}: ${show(e.msg)}`;
    case 'duplicate':
      return `${n(e.from)} → ${n(e.to)}: ${show(e.msg)} (duplicated: stays in flight)`;
    case 'drop':
      return `drop ${n(e.from)} → ${n(e.to)}: ${show(e.msg)}`;
    case 'action':
      return `${n(e.node)}: ${String(e.action)}${e.arg === undefined ? '' : `(${show(e.arg)})`}`;
    case 'crash': {
      if (e.lostWrite === undefined || e.lostWrite === null) return `${n(e.node)} crashes`;
      // A step whose write the disk lost (an fsync that lied), then the crash.
      const step = eventText(e.lostWrite as EventLike, name);
      return `${step}; the disk loses that write and ${n(e.node)} crashes`;
    }
    case 'restart':
      return e.damage === undefined ? `${n(e.node)} restarts` : `${n(e.node)} restarts with damaged durable state (${String(e.damage)})`;
    case 'tick':
      return 'clock tick';
    case 'drift':
      return `${n(e.node)}'s clock drifts ${Number(e.by) > 0 ? '+' : ''}${String(e.by)}`;
    case 'invoke':
      return `${n(e.node)} invokes ${show(e.op)} at ${n(e.to)}`;
    default:
      return String(e.kind);
  }
}
