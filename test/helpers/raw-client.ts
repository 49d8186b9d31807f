/**
 * A raw ws connection for server tests: records every parsed server message (and the header of
 * every binary preview picture), awaits by predicate.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  serverMessageSchema,
  type PreviewHeader,
  type ServerMessage,
} from '../../src/server/protocol.ts';
import { readPreview } from '../../src/server/preview-frame.ts';

export async function raw(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const got: ServerMessage[] = [];
  const previews: PreviewHeader[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data, isBinary) => {
    assert.ok(Buffer.isBuffer(data));
    if (isBinary) previews.push(readPreview(data).header);
    else got.push(serverMessageSchema.parse(JSON.parse(data.toString())));
    waiters.splice(0).forEach((w) => w());
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  /** The first item from index `from` on that matches, waiting for it (messages are events). */
  const waitFor = async <T>(
    list: T[],
    pred: (m: T) => boolean,
    timeoutMs: number,
    from: number,
  ): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = list.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error('timed out waiting for a message');
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  const next = (pred: (m: ServerMessage) => boolean, timeoutMs = 30_000, from = 0) =>
    waitFor(got, pred, timeoutMs, from);
  const nextPreview = (pred: (h: PreviewHeader) => boolean, timeoutMs = 30_000) =>
    waitFor(previews, pred, timeoutMs, 0);
  /** Sends a ping and waits for its pong: everything the server sent before it has arrived. */
  const settle = async (id: string) => {
    const from = got.length;
    ws.send(JSON.stringify({ type: 'ping', id }));
    await next((m) => m.type === 'pong' && m.id === id, 30_000, from);
  };
  return { ws, got, previews, next, nextPreview, settle };
}
