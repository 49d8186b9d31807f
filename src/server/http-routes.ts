/** The HTTP side: `/health` (open), `/stats` and `/metrics` (token), the web page (static files). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessPolicy } from './access.ts';
import { renderMetrics, type ServerFigures } from './metrics.ts';
import { serveStatic } from './static-files.ts';
import { PROTOCOL_VERSION } from './protocol.ts';

export interface HttpContext {
  access: AccessPolicy;
  figures: () => ServerFigures;
  webRoot?: string | undefined;
  /** Counts a refused request by reason. */
  count: (code: string) => void;
}

export async function handleHttp(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: HttpContext,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (!ctx.access.hostAllowed(req)) {
    ctx.count('bad_host');
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
    if (!ctx.access.authorised(req, url)) return json(401, { error: 'a valid token is required' });
    if (url.pathname === '/stats') return json(200, ctx.figures());
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    return void res.end(renderMetrics(ctx.figures()));
  }
  if (ctx.webRoot && (await serveStatic(ctx.webRoot, url.pathname, res))) return;
  json(404, { error: `no such path: ${url.pathname}` });
}
