/**
 * The WebSocket gateway, and the HTTP server it shares a port with, in front of an analysis
 * service (src/server/analysis-service.ts — the server knows nothing of pipelines/).
 * HTTP routes: http-routes.ts. Who may connect: access.ts. A client's pushed camera:
 * push-source.ts. Frame messages: messages.ts. WebSocket at `/ws`: authenticated on upgrade
 * (token in `Authorization: Bearer …` or `?token=`), origin allow-list, size and rate limits,
 * bounded per-client queues, heartbeats.
 */
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Subscription } from 'rxjs';
import type { AnalysisEvent } from './analysis-service.ts';
import type { Frame } from '../video/decode.ts';
import { Outbox } from './outbox.ts';
import { TokenBucket } from './rate-limit.ts';
import type { ServerFigures } from './metrics.ts';
import { AccessPolicy } from './access.ts';
import { handleHttp } from './http-routes.ts';
import { PUSH_PREFIX, PushSource } from './push-source.ts';
import { frameFields } from './messages.ts';
import { PreviewEncoder, type PreviewTarget, type PreviewWish } from './preview-encoder.ts';
import {
  resolveServerOptions,
  type ResolvedServerOptions,
  type ServerOptions,
} from './server-options.ts';
import {
  MIN_TOKEN_LENGTH,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ErrorCode,
  type ServerMessage,
  type SourceInfo,
} from './protocol.ts';

export { MIN_TOKEN_LENGTH };
export { checkServerOptions, type ServerOptions } from './server-options.ts';

interface Client {
  id: string;
  ws: WebSocket;
  outbox: Outbox;
  bucket: TokenBucket;
  subscriptions: Set<string>;
  /** Preview wishes per subscription (a source id or '*'). */
  previews: Map<string, PreviewWish>;
  alive: boolean;
  push?: PushSource;
  lastRateError: number;
}

export class CctferServer {
  private readonly http: HttpServer;
  private readonly wss: WebSocketServer;
  private readonly clients = new Map<string, Client>();
  private readonly rejected: Record<string, number> = {};
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private readonly sources: SourceInfo[];
  private readonly access: AccessPolicy;
  private events?: Subscription;
  private timers: NodeJS.Timeout[] = [];
  private clientFramesDropped = 0;
  private readonly previewEncoder = new PreviewEncoder();
  private readonly o: ResolvedServerOptions;

  constructor(options: ServerOptions) {
    this.o = resolveServerOptions(options);
    this.access = new AccessPolicy(this.o);
    this.sources = [...(options.sources ?? [])];
    this.http = createServer(
      (req, res) =>
        void handleHttp(req, res, {
          access: this.access,
          figures: () => this.figures(),
          webRoot: this.o.webRoot,
          count: (code) => this.count(code),
        }),
    );
    this.wss = new WebSocketServer({
      noServer: true,
      // ws closes the connection (1009) above this; smaller oversized messages get an `error`.
      maxPayload: Math.max(this.o.maxImageBytes, this.o.maxMessageBytes) + 1024,
    });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  async listen(): Promise<{ host: string; port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new Error(
                `port ${this.o.port} on ${this.o.host} is already in use (choose another with --port, or 0 for any free one)`,
              )
            : err.code === 'EADDRNOTAVAIL'
              ? new Error(`cannot listen on ${this.o.host}: no such address on this machine`)
              : err,
        ),
      );
      this.http.listen(this.o.port, this.o.host, () => resolve());
    });
    this.loopDelay.enable();
    this.events = this.o.pipeline.events$.subscribe({
      next: (e) => this.onEvent(e),
      error: (err: Error) => this.o.log?.(`pipeline failed: ${err.message}`),
    });
    this.timers.push(
      setInterval(() => this.heartbeat(), this.o.heartbeatMs),
      setInterval(() => this.broadcastStats(), this.o.statsIntervalMs),
    );
    const { port } = this.http.address() as AddressInfo;
    const host = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
    return { host: this.o.host, port, url: `http://${host}:${port}` };
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.events?.unsubscribe();
    this.loopDelay.disable();
    for (const c of this.clients.values()) c.ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  /** Announces a source added to the pipeline after start. */
  addSourceInfo(info: SourceInfo): void {
    this.sources.push(info);
    this.broadcastControl({ type: 'sources', sources: this.sources });
  }

  get clientCount(): number {
    return this.clients.size;
  }

  // ---- HTTP and upgrade ----------------------------------------------------------------------

  private figures(): ServerFigures {
    const mem = process.memoryUsage();
    return {
      sources: this.o.pipeline.stats(),
      clients: this.clients.size,
      clientFramesDropped: this.clientFramesDropped,
      rejected: { ...this.rejected },
      eventLoopDelayP99Ms: this.loopDelay.percentile(99) / 1e6,
      residentBytes: mem.rss,
    };
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const refuse = (status: number, reason: string) => {
      this.count(status === 401 ? 'unauthorised' : 'refused');
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    if (!this.access.hostAllowed(req)) return refuse(421, 'Misdirected Request');
    if (!this.access.originAllowed(req)) return refuse(403, 'Forbidden');
    if (!this.access.authorised(req, url)) return refuse(401, 'Unauthorized');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  // ---- WebSocket -----------------------------------------------------------------------------

  private onConnection(ws: WebSocket): void {
    const id = randomBytes(6).toString('hex');
    const client: Client = {
      id,
      ws,
      outbox: new Outbox(
        { send: (data, cb) => ws.send(data, cb) },
        () => ws.close(1008, 'too many unread messages'),
        this.o.clientQueue,
      ),
      bucket: new TokenBucket(this.o.rate.perSecond, this.o.rate.burst),
      subscriptions: new Set(),
      previews: new Map(),
      alive: true,
      lastRateError: 0,
    };
    this.clients.set(id, client);
    ws.on('pong', () => (client.alive = true));
    ws.on('message', (data, isBinary) => this.onMessage(client, data, isBinary));
    // ws answers a protocol error (e.g. a message over maxPayload: 1009) with a close frame and
    // ends the socket itself; terminating here would cut that frame off (the client saw 1006).
    ws.on('error', () => {});
    ws.on('close', () => this.onClose(client));
    const { classes } = this.o.pipeline;
    this.send(client, {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      clientId: id,
      model: { ...this.o.model, classes: [...classes] },
      sources: this.sources,
      limits: {
        maxMessageBytes: this.o.maxMessageBytes,
        maxImageBytes: this.o.maxImageBytes,
        messagesPerSecond: this.o.rate.perSecond,
      },
    });
  }

  private onClose(client: Client): void {
    client.outbox.close();
    this.clientFramesDropped += client.outbox.dropped;
    this.clients.delete(client.id);
    client.push?.close();
  }

  private count(code: string): void {
    this.rejected[code] = (this.rejected[code] ?? 0) + 1;
  }

  private error(client: Client, code: ErrorCode, message: string, source?: string): void {
    this.count(code);
    this.send(client, { type: 'error', code, message, ...(source !== undefined && { source }) });
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    try {
      if (!client.bucket.take()) {
        this.count('rate_limited');
        // One error a second at most: answering every refused message would amplify a flood.
        const now = Date.now();
        if (now - client.lastRateError >= 1000) {
          client.lastRateError = now;
          this.send(client, {
            type: 'error',
            code: 'rate_limited',
            message: `more than ${this.o.rate.perSecond} messages a second: messages are being dropped`,
          });
        }
        return;
      }
      // ws hands us a Buffer already (default binaryType); copy only fragments or ArrayBuffers.
      const bytes = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      if (isBinary) {
        if (bytes.length > this.o.maxImageBytes)
          return this.error(
            client,
            'too_large',
            `images may be at most ${this.o.maxImageBytes} bytes; got ${bytes.length}`,
          );
        return this.pushSource(client).image(bytes);
      }
      if (bytes.length > this.o.maxMessageBytes)
        return this.error(
          client,
          'too_large',
          `text messages may be at most ${this.o.maxMessageBytes} bytes; got ${bytes.length}`,
        );
      const parsed = parseClientMessage(bytes.toString('utf8'));
      if (!parsed.ok) {
        // A refused announcement refuses the image it announces, too.
        if (parsed.type === 'push') this.pushSource(client).refuseNext();
        return this.error(client, parsed.code, parsed.message);
      }
      const m = parsed.message;
      switch (m.type) {
        case 'ping':
          return this.send(client, { type: 'pong', ...(m.id !== undefined && { id: m.id }) });
        case 'stats':
          return this.send(client, this.statsMessage());
        case 'subscribe': {
          const known = new Set(this.sources.map((x) => x.id));
          for (const s of m.sources) {
            if (s === '*' || known.has(s)) {
              client.subscriptions.add(s);
              if (m.preview) client.previews.set(s, { ...m.preview, lastSentAt: -Infinity });
              else client.previews.delete(s);
              this.o.onSubscribe?.(s);
            } else this.error(client, 'unknown_source', `no source named '${s}'`, s);
          }
          return;
        }
        case 'unsubscribe':
          for (const s of m.sources) {
            client.subscriptions.delete(s);
            client.previews.delete(s);
          }
          return;
        case 'push':
          this.pushSource(client).announce(m.frame, m.pts);
          return;
      }
    } catch (err) {
      this.error(client, 'internal', (err as Error).message);
    }
  }

  private pushSource(client: Client): PushSource {
    client.push ??= new PushSource(
      this.o.pipeline,
      client.id,
      (code, message, source) => this.error(client, code, message, source),
      () => client.ws.readyState === client.ws.OPEN,
    );
    return client.push;
  }

  // ---- pipeline events -------------------------------------------------------------------------

  /** Pushed (camera) frames are private: they go to the client that pushed them, never to '*'. */
  private wants(client: Client, source: string): boolean {
    if (source.startsWith(PUSH_PREFIX)) return client.push?.source === source;
    return client.subscriptions.has(source) || client.subscriptions.has('*');
  }

  private onEvent(e: AnalysisEvent): void {
    if (e.type === 'frame') {
      const r = e.result;
      // Serialised once per frame, not once per client: only clientDropped differs per client.
      let body: string | undefined;
      for (const c of this.clients.values()) {
        if (!this.wants(c, r.frame.sourceId)) continue;
        body ??= JSON.stringify(frameFields(r)).slice(1);
        c.outbox.sendFrame(`{"clientDropped":${c.outbox.dropped},${body}`);
      }
      this.offerPreview(r.frame);
      return;
    }
    const msg: ServerMessage =
      e.type === 'end'
        ? { type: 'end', source: e.source, reason: e.reason, frames: e.frames, dropped: e.dropped }
        : { type: 'error', code: 'source_failed', message: e.message, source: e.source };
    if (e.type === 'error') this.count('source_failed');
    for (const c of this.clients.values()) if (this.wants(c, e.source)) this.send(c, msg);
    if (e.type === 'end' && e.source.startsWith(PUSH_PREFIX)) this.o.pipeline.forget(e.source);
  }

  /** After the frame's result: its picture, to the subscribers that asked for previews. */
  private offerPreview(frame: Frame): void {
    const targets: PreviewTarget[] = [];
    for (const c of this.clients.values()) {
      if (c.previews.size === 0 || !this.wants(c, frame.sourceId)) continue;
      const wish = c.previews.get(frame.sourceId) ?? c.previews.get('*');
      // A pushed source's preview goes to its owner only: wants() already says so.
      if (wish) targets.push({ wish, deliver: (m) => c.outbox.sendPreview(m) });
    }
    if (targets.length) this.previewEncoder.offer(frame, targets);
  }

  private statsMessage(): ServerMessage {
    return { type: 'stats', sources: this.o.pipeline.stats(), clients: this.clients.size };
  }

  private broadcastStats(): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify(this.statsMessage());
    for (const c of this.clients.values()) c.outbox.sendControl(text);
  }

  private broadcastControl(msg: ServerMessage): void {
    const text = JSON.stringify(msg);
    for (const c of this.clients.values()) c.outbox.sendControl(text);
  }

  private send(client: Client, msg: ServerMessage): void {
    client.outbox.sendControl(JSON.stringify(msg));
  }

  private heartbeat(): void {
    for (const c of this.clients.values()) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }
}
