/**
 * `cctfer/client`: a typed client for `cctfer serve`. Validates every server message against the
 * protocol schemas, reconnects with exponential backoff (and re-subscribes), and can push camera
 * frames (JPEG/PNG bytes) for analysis.
 *
 *   const client = new CctferClient('ws://127.0.0.1:8080/ws', { token });
 *   client.on('frame', (m) => console.log(m.source, m.frame, m.faces.map((f) => f.smoothedLabel)));
 *   await client.connect();
 *   client.subscribe(['*']);
 */
import WebSocket from 'ws';
import {
  serverMessageSchema,
  type ClientMessage,
  type PreviewHeader,
  type PreviewRequest,
  type ServerMessage,
} from '../server/protocol.ts';
import { readPreview } from '../server/preview-frame.ts';

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export interface ClientEvents {
  hello: Of<'hello'>;
  frame: Of<'frame'>;
  stats: Of<'stats'>;
  error: Of<'error'>;
  end: Of<'end'>;
  sources: Of<'sources'>;
  pong: Of<'pong'>;
  /** A preview picture (JPEG) of an analysed frame, for subscriptions made with `preview`. */
  preview: { header: PreviewHeader; jpeg: Uint8Array };
  open: undefined;
  /** The connection closed; `reconnectInMs` is set when a reconnect is scheduled. */
  close: { code: number; reason: string; reconnectInMs?: number };
  /** A message that did not match the protocol (a server bug or a version mismatch). */
  invalid: { text: string; problem: string };
}

export interface ClientOptions {
  token?: string;
  /** Reconnect after a lost connection (default true): backoff from minMs doubling to maxMs. */
  reconnect?: boolean | { minMs?: number; maxMs?: number };
  /** Extra headers, e.g. Origin. */
  headers?: Record<string, string>;
}

type Listener<K extends keyof ClientEvents> = (event: ClientEvents[K]) => void;

export class CctferClient {
  private ws: WebSocket | undefined;
  private readonly listeners = new Map<keyof ClientEvents, Set<Listener<never>>>();
  private readonly subscriptions = new Map<string, Partial<PreviewRequest> | undefined>();
  private closedByUser = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  hello: Of<'hello'> | undefined;

  constructor(
    readonly url: string,
    private readonly options: ClientOptions = {},
  ) {}

  on<K extends keyof ClientEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** Resolves with the next event of this kind. */
  once<K extends keyof ClientEvents>(event: K, timeoutMs = 10_000): Promise<ClientEvents[K]> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        off();
        reject(new Error(`no '${event}' within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(event, (e) => {
        clearTimeout(t);
        off();
        resolve(e);
      });
    });
  }

  private emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
    for (const l of this.listeners.get(event) ?? []) (l as Listener<K>)(value);
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Connects and resolves on the server's `hello` (rejects if the first attempt fails). */
  connect(): Promise<Of<'hello'>> {
    this.closedByUser = false;
    return new Promise((resolve, reject) => {
      const offHello = this.on('hello', (h) => {
        offHello();
        offClose();
        resolve(h);
      });
      // The first connection must succeed; reconnecting is for connections that were up.
      const offClose = this.on('close', (c) => {
        offHello();
        offClose();
        clearTimeout(this.timer);
        reject(new Error(`connection to ${this.url} failed: ${c.code} ${c.reason}`.trim()));
      });
      this.open();
    });
  }

  private open(): void {
    const headers = { ...this.options.headers };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const ws = new WebSocket(this.url, { headers });
    this.ws = ws;
    let reason = '';
    ws.on('unexpected-response', (_req, res) => {
      reason = `HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim();
      ws.terminate();
    });
    ws.on('error', (err) => (reason ||= err.message));
    ws.on('open', () => {
      this.attempt = 0;
      this.emit('open', undefined);
      for (const [source, preview] of this.subscriptions)
        this.send({ type: 'subscribe', sources: [source], ...(preview && { preview }) });
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const bytes = Buffer.isBuffer(data)
          ? data
          : Array.isArray(data)
            ? Buffer.concat(data)
            : Buffer.from(data);
        try {
          return this.emit('preview', readPreview(bytes));
        } catch (err) {
          return this.emit('invalid', {
            text: `(${bytes.length} binary bytes)`,
            problem: (err as Error).message,
          });
        }
      }
      const text = data.toString();
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return this.emit('invalid', { text, problem: 'not JSON' });
      }
      const parsed = serverMessageSchema.safeParse(value);
      if (!parsed.success)
        return this.emit('invalid', {
          text,
          problem: parsed.error.issues[0]?.message ?? 'invalid',
        });
      const m = parsed.data;
      if (m.type === 'hello') this.hello = m;
      this.emit(m.type, m as never);
    });
    ws.on('close', (code, buf) => {
      const r = reason || buf.toString();
      this.attempt++;
      const rc = this.options.reconnect ?? true;
      // A refused token will not get better by retrying.
      if (this.closedByUser || rc === false || /HTTP 40[13]/.test(r))
        return this.emit('close', { code, reason: r });
      const { minMs = 250, maxMs = 5000 } = typeof rc === 'object' ? rc : {};
      const delay = Math.min(maxMs, minMs * 2 ** Math.min(this.attempt - 1, 16));
      this.emit('close', { code, reason: r, reconnectInMs: delay });
      this.timer = setTimeout(() => this.open(), delay);
    });
  }

  send(message: ClientMessage): void {
    if (this.connected) this.ws?.send(JSON.stringify(message));
  }

  /**
   * Subscribes to sources ('*': all); remembered across reconnects. With `preview`, the server
   * also sends a JPEG of analysed frames (≤ 640 px wide, ≤ 15 fps; `preview` events).
   */
  subscribe(sources: string[], options: { preview?: Partial<PreviewRequest> | true } = {}): void {
    const preview = options.preview === true ? {} : options.preview;
    for (const s of sources) this.subscriptions.set(s, preview);
    this.send({ type: 'subscribe', sources, ...(preview && { preview }) });
  }

  unsubscribe(sources: string[]): void {
    for (const s of sources) this.subscriptions.delete(s);
    this.send({ type: 'unsubscribe', sources });
  }

  /** Round-trip time of a ping, in ms. */
  async ping(timeoutMs = 5000): Promise<number> {
    const id = Math.random().toString(36).slice(2);
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no pong within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on('pong', (p) => {
        if (p.id !== id) return;
        clearTimeout(timer);
        off();
        resolve(performance.now() - t0);
      });
      this.send({ type: 'ping', id });
    });
  }

  /** Pushes one camera frame (JPEG or PNG bytes); results come back as `frame` messages. */
  pushImage(bytes: Uint8Array, meta: { frame?: number; pts?: number } = {}): void {
    if (!this.connected) return;
    if (meta.frame !== undefined || meta.pts !== undefined) this.send({ type: 'push', ...meta });
    this.ws?.send(bytes, { binary: true });
  }

  /** Stops reading from the socket (for tests of slow clients). */
  pauseReading(): void {
    this.ws?.pause();
  }

  close(): void {
    this.closedByUser = true;
    clearTimeout(this.timer);
    // A paused socket would never read the server's closing handshake: just drop it.
    if (this.ws?.isPaused) this.ws.terminate();
    else this.ws?.close(1000, 'bye');
  }
}

export type { ServerMessage, ClientMessage } from '../server/protocol.ts';
export type {
  FrameMessage,
  FaceMessage,
  HelloMessage,
  SourceInfo,
  PreviewHeader,
  PreviewRequest,
} from '../server/protocol.ts';
