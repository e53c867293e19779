/**
 * Emulated disk faults for Raft, in spec code (older than the checker's `--disk-faults`, and wider:
 * every older durable state, where the checker hands back the crashed state, the state before the
 * last step (a lost write) or `init`): the first
 * server gets a local action `diskFault(keep, term, vote)` that crashes it and restarts it from an
 * older durable state — its log cut to its first `keep` entries, its term back to `term`, its vote
 * kept only if `vote` and the term did not move, its repair mark forgotten. Repeatable: server 1
 * may lose its disk any number of times (one damaged server at a time; the others' disks are sound).
 *
 * This over-approximates what a disk can do to one replica (every older state it could have
 * saved, and more), so the correct servers must stay safe under it and `truncate-on-corruption`
 * must not (specs/raft/repair.test.ts, bench/raft-disk-faults.ts).
 *
 * What the restarted server is told depends on whether its storage can see the damage:
 * - `corrupt-record` (the default): a record failed its checksum; `onRecover` decides.
 * - `lost-write` with detection: a write that was flushed and acknowledged (a vote, appended
 *   entries) is missing, and the storage sees it because a witness written separately says more
 *   was written: each durable write carries a sequence number and, after the write is flushed, the
 *   node flushes the number as a high-water mark in a second place (another file or device). A log
 *   whose last sequence number is below the mark lost a write; `onRecover` is told `lost-write`.
 *   One lost write per fault: if the mark's own write is the lost one, the log is intact and the
 *   node restarts clean; if both are lost (one lying device under both), the fault is beyond the
 *   model, as any undetectable loss is.
 * - `lost-write` undetected (`diskFaultAction(..., undetected)`, the plain log): every record checks
 *   out, so the server runs on the older state as if it were its newest and no hook is called. No
 *   recovery rule can help a server that cannot tell it forgot: raft's `undetected-lost-write`
 *   variant (`lostWrites: 'undetected'` under the checker's own lost writes) shows it breaking
 *   election safety. Protocol-aware recovery (Alagappan et al., FAST 2018) starts from
 *   damage that is detected; TigerBeetle's journal keeps a second copy of every record's header in
 *   a separate zone so that a missing write is seen. Both rest on a witness, as the mark above.
 */
import { defineProtocol, isRefusal, reachable, type ActionDef, type DamageKind, type Params, type Protocol, type RoleDef, type SpecProperty } from '../core/index.ts';
import { lastTerm, type CoreState, type Entry } from './consensus.ts';

type S = CoreState<Entry>;
type Damage = { readonly keep: number; readonly term: number; readonly vote: boolean };

/** Every older durable state of `s` (as {@link Damage}): a shorter log, an older term, the vote dropped. */
function olderStates(s: S): Damage[] {
  const out: Damage[] = [];
  for (let keep = 0; keep <= s.log.length; keep++) {
    for (let term = Math.max(1, lastTerm(s.log.slice(0, keep))); term <= s.term; term++) {
      out.push({ keep, term, vote: false });
      if (term === s.term && s.votedFor !== null) out.push({ keep, term, vote: true });
    }
  }
  return out;
}

/**
 * The first server's disk fault as a local action: it restarts from an older durable state and,
 * unless `undetected`, its role's `onRecover` is told `kind`. `server` is the role whose `init`
 * and `onRecover` the restart uses.
 */
export function diskFaultAction<St extends S, M, P extends Params>(
  server: RoleDef<St, M, P>,
  kind: DamageKind,
  undetected = false,
): ActionDef<St, M, P, Damage> {
  return {
    choices: (s) => olderStates(s),
    when: (_s, ctx) => ctx.index === 0,
    do: (s, _out, ctx, d) => {
      const older = { ...server.init(ctx), term: d.term, votedFor: d.vote ? s.votedFor : null, log: s.log.slice(0, d.keep), repair: null } as St;
      if (undetected) return older;
      const answer = server.onRecover!(older, { kind }, ctx);
      return isRefusal(answer) ? older : answer;
    },
  };
}

/**
 * `protocol` (raft or raft-kv, or one of their variants) with a repeatable emulated disk fault on
 * the first server, reported to `onRecover` as `damage` (default `corrupt-record`).
 */
export function withEmulatedDiskFaults(
  protocol: Protocol,
  options: { properties?: (all: readonly SpecProperty[]) => readonly SpecProperty[]; damage?: 'corrupt-record' | 'lost-write' } = {},
): Protocol {
  const server = protocol.roles.server as RoleDef<S, unknown, Record<string, number>>;
  const diskFault = diskFaultAction(server, options.damage ?? 'corrupt-record');
  return defineProtocol({
    ...protocol,
    name: `${protocol.name}${protocol.variantName ? `:${protocol.variantName}` : ''}+${options.damage === 'lost-write' ? 'lost-writes' : 'disk-faults'}`,
    variants: undefined,
    roles: { ...protocol.roles, server: { ...server, actions: { ...server.actions, diskFault } } },
    properties: (p) => {
      const all = [
        ...(protocol.properties?.(p) ?? []),
        reachable('a damaged server heard every term and is catching up', (w) => w.any<S>('server', (s) => s.repair !== null && s.repair.heard.length === w.nodes('server').length - 1 && s.log.length > 0)),
      ];
      return options.properties ? options.properties(all) : all;
    },
  });
}
