/** The server's options, their defaults, and the configurations it refuses to start with. */
import type { AnalysisService } from './analysis-service.ts';
import { MIN_TOKEN_LENGTH, type SourceInfo } from './protocol.ts';

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

type Optional =
  'token' | 'allowedOrigins' | 'allowedHosts' | 'webRoot' | 'sources' | 'log' | 'onSubscribe';
export type ResolvedServerOptions = Required<Omit<ServerOptions, Optional>> &
  Pick<ServerOptions, Optional>;

export const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The host name of a Host header or an origin's host ('[::1]:8080' → '::1'), lower-cased. */
export function hostName(hostHeader: string): string {
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

export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  const o = {
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
  checkServerOptions(o);
  return o;
}
