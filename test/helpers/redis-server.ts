/**
 * A real redis-server (Debian's package) for one test: a free port, persistence off, its own
 * folder; `restart()` shuts it down saving its data (SHUTDOWN SAVE) and starts it again on the
 * same port, as an operator's restart would.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestRedis {
  url: string;
  port: number;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function launch(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve(child);
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)),
    );
  });
}

export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'cctfer-redis-'));
  const port = await freePort();
  let child = await launch(port, dir);
  const exited = (c: ChildProcess) =>
    c.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()));
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    async restart() {
      const old = child;
      old.removeAllListeners('exit');
      await run('redis-cli', ['-p', String(port), 'shutdown', 'save']).catch(() => undefined);
      await exited(old);
      child = await launch(port, dir);
    },
    async stop() {
      child.removeAllListeners('exit');
      child.kill('SIGKILL');
      await exited(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
