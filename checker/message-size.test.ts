/**
 * Message size as a checked property (issue 24): the checker knows the executor's transport limit
 * and a handler that sends more is a `message size` violation with its trace, not a node that
 * fails at run time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocol, t } from '../specs/core/index.ts';
import { FRAME_OVERHEAD_BYTES } from '../impl/net/frame.ts';
import { UDP_DATAGRAM_BYTES_MAX } from '../impl/net/udpTransport.ts';
import { checkSync } from './check.ts';
import { minimizeTrace } from './minimize.ts';
import { modelForTrace, replayTrace } from './replay.ts';
import { MESSAGE_SIZE, UDP_PAYLOAD_BYTES_MAX } from './message-size.ts';
import { main } from '../cli/main.ts';
import { memoryIO } from '../cli/io.ts';

// A node that sends its peer a blob of a chosen size (the payload is a length-prefixed string).
const Msg = t.union('kind', { blob: { data: t.string } });
const blobs = protocol({ name: 'blobs', params: { big: 100 }, messages: Msg });
const spec = blobs.define({
  roles: {
    node: blobs.role(t.struct({ got: t.u32 }))({
      count: 2,
      init: () => ({ got: 0 }),
      onMessage: () => ({ got: 1 }),
      actions: {
        send: {
          choices: (_s, ctx) => [10, ctx.params.big],
          do: (s, out, ctx, size: number) => (out.send(ctx.nodes('node').find((n) => n !== ctx.self)!, { kind: 'blob', data: 'x'.repeat(size) }), s),
        },
      },
    }),
  },
});

describe('message size', () => {
  it('knows what the udp transport carries', () => {
    expect(UDP_PAYLOAD_BYTES_MAX).toBe(UDP_DATAGRAM_BYTES_MAX - FRAME_OVERHEAD_BYTES);
    expect(UDP_PAYLOAD_BYTES_MAX).toBe(65_463);
  });

  it('a message larger than the limit is a violation with a trace that replays and minimizes', () => {
    const r = checkSync(spec, { maxMessageBytes: 50 });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property).toEqual({ name: MESSAGE_SIZE, kind: 'invariant' });
    const trace = r.trace!;
    expect(trace.options.maxMessageBytes).toBe(50);
    const last = trace.steps[trace.steps.length - 1]!;
    expect(last.event).toMatchObject({ kind: 'action', action: 'send', arg: 100 });
    expect(replayTrace(modelForTrace(spec, trace), trace).ok).toBe(true);
    expect(minimizeTrace(modelForTrace(spec, trace), trace).trace.steps.length).toBe(2);
    // The same messages fit a limit of 102 bytes (a 100-byte string and its 1-byte length, the union's tag).
    expect(checkSync(spec, { maxMessageBytes: 102 }).result).toBe('ok');
    expect(checkSync(spec, { maxMessageBytes: 101 }).result).toBe('violation');
  });

  it('checks the udp limit by default; none turns it off', () => {
    const big = { params: { big: 70_000 } };
    const r = checkSync(spec, big);
    expect(r.result === 'violation' && r.property.name).toBe(MESSAGE_SIZE);
    expect(checkSync(spec, { ...big, maxMessageBytes: Number.POSITIVE_INFINITY }).result).toBe('ok');
    expect(checkSync(spec).result).toBe('ok');
  });

  it('--max-message-bytes on the CLI: a bundled spec whose messages pass 4 bytes is caught (exit 1); a bad value exits 2', async () => {
    const io = memoryIO();
    const dir = await mkdtemp(join(tmpdir(), 'pacta-message-size-'));
    try {
      const code = await main(['check', 'raft', '--max-message-bytes', '4', '--workers', '1', '--json', '--out', dir], io);
      const out = JSON.parse(io.stdout) as { result: string; violation: { property: string } };
      expect({ code, result: out.result, property: out.violation.property }).toEqual({ code: 1, result: 'violation', property: MESSAGE_SIZE });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const bad = memoryIO();
    expect(await main(['check', 'raft', '--max-message-bytes', '0'], bad)).toBe(2);
    expect(bad.stderr).toMatch(/maxMessageBytes/);
  });
});
