/**
 * The WebSocket + HTTP server in front of a LivePipeline.
 * HTTP: `/health` (open), `/stats` and `/metrics` (token), the web page at `/` (static files).
 * WebSocket at `/ws`: authenticated on upgrade (token in `Authorization: Bearer …` or `?token=`),
 * origin allow-list, size and rate limits, bounded per-client queues, heartbeats.
 */
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Subscription } from 'rxjs';
import type { AnalysisService, AnalysisEvent as PipelineEvent } from './analysis-service.ts';
import type { AnalysedFrame } from '../stream/types.ts';
import type { Channel } from '../stream/channel.ts';
import type { Frame } from '../video/decode.ts';
import { Outbox } from './outbox.ts';
import { TokenBucket } from './rate-limit.ts';
import { renderMetrics } from './metrics.ts';
import { serveStatic } from './static-files.ts';
import { decodePushedImage, ImageError } from './push-image.ts';
import {
  MIN_TOKEN_LENGTH,
  PROTOCOL_VERSION,
  parseClientMessage,
  round,
  type ErrorCode,
  type ServerMessage,
  type SourceInfo,
} from './protocol.ts';

export interface ServerOptions {
  pipeline: AnalysisService;
  model: { name: string; members: number; engine: string };
  /** Sources the pipeline serves (for `hello`). */
  sources?: SourceInfo[];
  host?: string;
  /** 0 picks a free port. Default 8080. */
  port?: number;
  /** Required unless `auth` is false. */
  token?: string;
  /** Off only on a loopback host (default true). */
  auth?: boolean;
  /** Origins allowed to open a WebSocket (browsers send Origin), besides those on allowed hosts. */
  allowedOrigins?: string[];
  /**
   * Host names clients may address (the Host header), besides loopback names and the listening
   * address: e.g. the machine's LAN name when listening on 0.0.0.0.
   */
  allowedHosts?: string[];
  /** Largest JSON message answered with an error rather than read (default 16 KiB). */
  maxMessageBytes?: number;
  /** Largest pushed image (default 4 MiB). Bigger messages close the connection (1009). */
  maxImageBytes?: number;
  /** Per-client message rate: average per second and burst (default 60 / 120). */
  rate?: { perSecond: number; burst: number };
  /** Frame messages waiting per client before the oldest is dropped (default 4). */
  clientQueue?: number;
  heartbeatMs?: number;
  statsIntervalMs?: number;
  /** Directory of the web page; none: no page. */
  webRoot?: string;
  log?: (line: string) => void;
  /** Called when a client subscribes to a source ('*' for all): lets files start on demand. */
  onSubscribe?: (source: string) => void;
}

interface Client {
  id: string;
  ws: WebSocket;
  outbox: Outbox;
  bucket: TokenBucket;
  subscriptions: Set<string>;
  alive: boolean;
  push?: {
    channel: Channel<Frame>;
    source: string;
    frames: number;
    /** What the next binary message was announced as (refused: its announcement was invalid). */
    next?: { frame?: number; pts?: number; refused?: boolean };
    lastPts: number;
  };
  lastRateError: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const PUSH_PREFIX = 'push:';
export { MIN_TOKEN_LENGTH };

/** The host name of a Host header or an origin's host ('[::1]:8080' → '::1'), lower-cased. */
function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.indexOf(']') > 0 ? h.slice(1, h.indexOf(']')) : h;
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/**
 * The configuration errors a server refuses to start with (also checked by `startServe` before it
 * loads anything): a missing or short token, auth off on a non-loopback host, a bad port.
 */
export function checkServerOptions(
  o: Pick<ServerOptions, 'auth' | 'token' | 'host' | 'port'>,
): void {
  const auth = o.auth ?? true;
  const host = o.host ?? '127.0.0.1';
  if (auth && o.token === undefined)
    throw new Error('a token is required (or turn auth off, which is allowed on loopback only)');
  if (auth && o.token !== undefined && o.token.length < MIN_TOKEN_LENGTH)
    throw new Error(
      `the token must be at least ${MIN_TOKEN_LENGTH} characters (got ${o.token.length}); leave it unset to get a random one`,
    );
  if (!auth && !LOOPBACK.has(host))
    throw new Error(`auth can be turned off only on a loopback host, not on '${host}'`);
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535))
    throw new Error(`the port must be a whole number from 0 to 65535, got ${o.port}`);
}

export class CctferServer {
  private readonly http: HttpServer;
  private readonly wss: WebSocketServer;
  private readonly clients = new Map<string, Client>();
  private readonly rejected: Record<string, number> = {};
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private readonly sources: SourceInfo[];
  private readonly hosts: Set<string>;
  private events?: Subscription;
  private timers: NodeJS.Timeout[] = [];
  private clientFramesDropped = 0;
  private readonly o: Required<
    Omit<
      ServerOptions,
      'token' | 'allowedOrigins' | 'allowedHosts' | 'webRoot' | 'sources' | 'log' | 'onSubscribe'
    >
  > &
    Pick<ServerOptions, 'token' | 'allowedOrigins' | 'webRoot' | 'log' | 'onSubscribe'>;

  constructor(options: ServerOptions) {
    this.o = {
      host: '127.0.0.1',
      port: 8080,
      auth: true,
      maxMessageBytes: 16 * 1024,
      maxImageBytes: 4 * 1024 * 1024,
      rate: { perSecond: 60, burst: 120 },
      clientQueue: 4,
      heartbeatMs: 30_000,
      statsIntervalMs: 1000,
      ...options,
    };
    checkServerOptions(this.o);
    // Host names a request may address: loopback names, the address we listen on (unless a
    // wildcard), and --allow-host. Anything else (DNS rebinding, a stray proxy) is refused.
    this.hosts = new Set([
      ...LOOPBACK,
      ...(['0.0.0.0', '::'].includes(this.o.host) ? [] : [hostName(this.o.host)]),
      ...(options.allowedHosts ?? []).map(hostName),
    ]);
    this.sources = [...(options.sources ?? [])];
    this.http = createServer((req, res) => void this.onRequest(req, res));
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

  // ---- HTTP ----------------------------------------------------------------------------------

  private authorised(req: IncomingMessage, url: URL): boolean {
    if (!this.o.auth) return true;
    const header = req.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice(7) : url.searchParams.get('token');
    if (!given || !this.o.token) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.o.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The Host header names an allowed host (checked on every request and upgrade). */
  private hostAllowed(req: IncomingMessage): boolean {
    const host = req.headers.host;
    return host !== undefined && this.hosts.has(hostName(host));
  }

  /**
   * Browsers send Origin: it must be listed, or be an http(s) page on an allowed host — never
   * judged against the Host header, which a DNS-rebinding page controls.
   */
  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    // Non-browser clients send no Origin; the token (and the Host check) still guard them.
    if (!origin) return true;
    if (this.o.allowedOrigins?.includes(origin)) return true;
    try {
      const u = new URL(origin);
      return (
        (u.protocol === 'http:' || u.protocol === 'https:') && this.hosts.has(hostName(u.host))
      );
    } catch {
      return false;
    }
  }

  private figures() {
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

  private async onRequest(
    req: IncomingMessage,
    res: import('node:http').ServerResponse,
  ): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!this.hostAllowed(req)) {
      this.count('bad_host');
      return json(421, { error: `unknown Host '${req.headers.host ?? ''}' (see --allow-host)` });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'only GET' });
    if (url.pathname === '/health')
      return json(200, {
        status: 'ok',
        protocol: PROTOCOL_VERSION,
        uptimeS: Math.round(process.uptime()),
      });
    if (url.pathname === '/stats' || url.pathname === '/metrics') {
      if (!this.authorised(req, url)) return json(401, { error: 'a valid token is required' });
      if (url.pathname === '/stats') return json(200, this.figures());
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      return void res.end(renderMetrics(this.figures()));
    }
    if (this.o.webRoot && (await serveStatic(this.o.webRoot, url.pathname, res))) return;
    json(404, { error: `no such path: ${url.pathname}` });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const refuse = (status: number, reason: string) => {
      this.count(status === 401 ? 'unauthorised' : 'refused');
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    if (!this.hostAllowed(req)) return refuse(421, 'Misdirected Request');
    if (!this.originAllowed(req)) return refuse(403, 'Forbidden');
    if (!this.authorised(req, url)) return refuse(401, 'Unauthorized');
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
    if (client.push) {
      client.push.channel.end();
      this.o.pipeline.closeSource(client.push.source);
    }
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
      if (isBinary) return this.onImage(client, bytes);
      if (bytes.length > this.o.maxMessageBytes)
        return this.error(
          client,
          'too_large',
          `text messages may be at most ${this.o.maxMessageBytes} bytes; got ${bytes.length}`,
        );
      const parsed = parseClientMessage(bytes.toString('utf8'));
      if (!parsed.ok) {
        // A refused announcement refuses the image it announces, too.
        if (parsed.type === 'push') this.pushState(client).next = { refused: true };
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
              this.o.onSubscribe?.(s);
            } else this.error(client, 'unknown_source', `no source named '${s}'`, s);
          }
          return;
        }
        case 'unsubscribe':
          for (const s of m.sources) client.subscriptions.delete(s);
          return;
        case 'push':
          this.pushState(client).next = { frame: m.frame, pts: m.pts };
          return;
      }
    } catch (err) {
      this.error(client, 'internal', (err as Error).message);
    }
  }

  private pushState(client: Client): NonNullable<Client['push']> {
    if (!client.push) {
      const source = `${PUSH_PREFIX}${client.id}`;
      client.push = {
        channel: this.o.pipeline.addPushSource(source),
        source,
        frames: 0,
        lastPts: -Infinity,
      };
    }
    return client.push;
  }

  private onImage(client: Client, bytes: Buffer): void {
    if (bytes.length > this.o.maxImageBytes)
      return this.error(
        client,
        'too_large',
        `images may be at most ${this.o.maxImageBytes} bytes; got ${bytes.length}`,
      );
    const push = this.pushState(client);
    const announced = push.next;
    push.next = undefined;
    if (announced?.refused) return;
    const receivedAt = Date.now();
    // Tracking needs increasing timestamps: an announced one must move forward, else the frame is
    // refused (an error for this client; the source and every other one carry on).
    if (announced?.pts !== undefined && !(announced.pts > push.lastPts))
      return this.error(
        client,
        'bad_timestamp',
        `pushed frames need increasing timestamps: pts ${announced.pts} after ${push.lastPts}; frame dropped`,
        push.source,
      );
    if (announced?.pts !== undefined) push.lastPts = announced.pts;
    decodePushedImage(bytes).then(
      (img) => {
        if (client.ws.readyState !== client.ws.OPEN) return;
        const index = announced?.frame ?? push.frames;
        let pts = announced?.pts ?? receivedAt / 1000;
        // Unannounced frames take the server clock, which may repeat a value (or trail an
        // announced one): nudge those forward.
        if (announced?.pts === undefined && pts <= push.lastPts) pts = push.lastPts + 1e-3;
        push.lastPts = Math.max(push.lastPts, pts);
        push.frames++;
        push.channel.push({ sourceId: push.source, index, pts, ...img });
      },
      (err: Error) =>
        this.error(
          client,
          err instanceof ImageError ? 'bad_image' : 'internal',
          err.message,
          push.source,
        ),
    );
  }

  // ---- pipeline events -------------------------------------------------------------------------

  /** Pushed (camera) frames are private: they go to the client that pushed them, never to '*'. */
  private wants(client: Client, source: string): boolean {
    if (source.startsWith(PUSH_PREFIX)) return client.push?.source === source;
    return client.subscriptions.has(source) || client.subscriptions.has('*');
  }

  private onEvent(e: PipelineEvent): void {
    if (e.type === 'frame') {
      const r = e.result;
      let text: string | undefined;
      for (const c of this.clients.values()) {
        if (!this.wants(c, r.frame.sourceId)) continue;
        // Serialised once per client only because clientDropped differs; the faces part is shared.
        text ??= this.frameBody(r);
        c.outbox.sendFrame(`{"type":"frame","clientDropped":${c.outbox.dropped},${text}`);
      }
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

  private frameBody(r: AnalysedFrame): string {
    const body = {
      source: r.frame.sourceId,
      frame: r.frame.index,
      pts: round(r.frame.pts, 4),
      width: r.frame.width,
      height: r.frame.height,
      faces: r.faces.map((f) => ({
        id: f.id,
        box: {
          x: round(f.box.x, 1),
          y: round(f.box.y, 1),
          width: round(f.box.width, 1),
          height: round(f.box.height, 1),
        },
        score: round(f.score, 4),
        probs: f.probs.map((p) => round(p, 4)),
        smoothed: f.smoothed.map((p) => round(p, 4)),
        label: f.label,
        smoothedLabel: f.smoothedLabel,
        consensus: round(Math.min(1, Math.max(0, f.consensus)), 4),
      })),
      dropped: r.dropped,
      t: r.receivedAt,
      latencyMs: r.analysedAt - r.receivedAt,
    };
    return JSON.stringify(body).slice(1);
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
