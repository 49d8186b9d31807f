/**
 * `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS) as ioredis connection options,
 * checked with a clear error. Workers retry every command for ever (BullMQ needs
 * `maxRetriesPerRequest: null`) so that a Redis restart is a pause, not a crash.
 */
export interface RedisConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
  maxRetriesPerRequest: null;
}

export function parseRedisUrl(text: string): RedisConnection {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--queue must be a redis:// URL (redis://host:port/db), got '${text}'`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new Error(`--queue must be a redis:// or rediss:// URL, got '${text}'`);
  const port = url.port ? Number(url.port) : 6379;
  const dbText = url.pathname.replace(/^\//, '') || '0';
  const db = Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    throw new Error(
      `--queue: the database must be a number (redis://host:port/0), got '${dbText}'`,
    );
  return {
    host: url.hostname || 'localhost',
    port,
    db,
    ...(url.username && { username: decodeURIComponent(url.username) }),
    ...(url.password && { password: decodeURIComponent(url.password) }),
    ...(url.protocol === 'rediss:' && { tls: {} }),
    maxRetriesPerRequest: null,
  };
}
