/**
 * Emulated disk faults for Raft, in spec code (older than the checker's `--disk-faults`, and wider:
 * every older durable state, where the checker hands back the crashed state or `init`): the first
 * server gets a local action `diskFault(keep, term, vote)` that crashes it and restarts it from an
 * older durable state — its log cut to its first `keep` entries, its term back to `term`, its vote
 * kept only if `vote` and the term did not move, its repair mark forgotten — and hands that state
 * to the role's own `onRecover` as a corrupted record. Repeatable: server 1 may lose its disk any
 * number of times (one damaged server at a time; the others' disks are sound).
 *
 * This over-approximates what a disk can do to one replica (every older state it could have
 * saved, and more), so the correct servers must stay safe under it and `truncate-on-corruption`
 * must not (specs/raft/repair.test.ts, bench/raft-disk-faults.ts).
 */
import { defineProtocol, isRefusal, reachable, type ActionDef, type Protocol, type RoleDef, type SpecProperty } from '../core/index.ts';
import { lastTerm, type CoreState, type Entry } from './consensus.ts';

type S = CoreState<Entry>;
type Damage = { readonly keep: number; readonly term: number; readonly vote: boolean };

/** `protocol` (raft or raft-kv, or one of their variants) with a repeatable emulated disk fault on the first server. */
export function withEmulatedDiskFaults(protocol: Protocol, options: { properties?: (all: readonly SpecProperty[]) => readonly SpecProperty[] } = {}): Protocol {
  const server = protocol.roles.server as RoleDef<S, unknown, Record<string, number>>;
  const diskFault: ActionDef<S, unknown, Record<string, number>, Damage> = {
    choices: (s) => {
      const out: Damage[] = [];
      for (let keep = 0; keep <= s.log.length; keep++) {
        for (let term = Math.max(1, lastTerm(s.log.slice(0, keep))); term <= s.term; term++) {
          out.push({ keep, term, vote: false });
          if (term === s.term && s.votedFor !== null) out.push({ keep, term, vote: true });
        }
      }
      return out;
    },
    when: (_s, ctx) => ctx.index === 0,
    do: (s, _out, ctx, d) => {
      const older: S = { ...server.init(ctx), term: d.term, votedFor: d.vote ? s.votedFor : null, log: s.log.slice(0, d.keep), repair: null };
      const answer = server.onRecover!(older, { kind: 'corrupt-record' }, ctx);
      return isRefusal(answer) ? older : answer;
    },
  };
  return defineProtocol({
    ...protocol,
    name: `${protocol.name}${protocol.variantName ? `:${protocol.variantName}` : ''}+disk-faults`,
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
