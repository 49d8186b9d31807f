/** Who may talk to the server: the Host header, the browser's Origin, and the token. */
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { LOOPBACK, hostName, type ResolvedServerOptions } from './server-options.ts';

export class AccessPolicy {
  private readonly hosts: Set<string>;

  constructor(
    private readonly o: Pick<
      ResolvedServerOptions,
      'auth' | 'token' | 'host' | 'allowedHosts' | 'allowedOrigins'
    >,
  ) {
    // Host names a request may address: loopback names, the address we listen on (unless a
    // wildcard), and --allow-host. Anything else (DNS rebinding, a stray proxy) is refused.
    this.hosts = new Set([
      ...LOOPBACK,
      ...(['0.0.0.0', '::'].includes(o.host) ? [] : [hostName(o.host)]),
      ...(o.allowedHosts ?? []).map(hostName),
    ]);
  }

  /** A valid token in `Authorization: Bearer …` or `?token=` (compared in constant time). */
  authorised(req: IncomingMessage, url: URL): boolean {
    if (!this.o.auth) return true;
    const header = req.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice(7) : url.searchParams.get('token');
    if (!given || !this.o.token) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.o.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The Host header names an allowed host (checked on every request and upgrade). */
  hostAllowed(req: IncomingMessage): boolean {
    const host = req.headers.host;
    return host !== undefined && this.hosts.has(hostName(host));
  }

  /**
   * Browsers send Origin: it must be listed, or be an http(s) page on an allowed host — never
   * judged against the Host header, which a DNS-rebinding page controls.
   */
  originAllowed(req: IncomingMessage): boolean {
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
}
