/** `cctfer serve`: analyse video sources live and stream results over WebSocket. */
import { Command, Option } from 'commander';
import { randomBytes } from 'node:crypto';
import { parseCausalSmoothing } from '../stream/smoothing-spec.ts';
import { parseBackendName } from '../engine/backend-name.ts';
import {
  cliFfmpeg,
  collect,
  positiveInt,
  withDetectorOptions,
  withModelOptions,
} from './options.ts';
import { MIN_TOKEN_LENGTH } from '../server/limits.ts';

const portNumber = (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n > 65535)
    throw new Error(`--port must be a whole number from 0 to 65535, got '${v}'`);
  return n;
};

export function serveCommand(): Command {
  return withDetectorOptions(
    withModelOptions(
      new Command('serve').description(
        'analyse video sources live and push per-face expressions to WebSocket clients (and a web page at /)',
      ),
    ),
  )
    .option(
      '-s, --source <spec>',
      'file, http(s) URL, webcam[:/dev/videoN], v4l2:/dev/videoN, page URL (yt-dlp); repeatable',
      collect,
      [],
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('-p, --port <port>', 'port 0–65535 (0: any free one)', portNumber, 8080)
    .addOption(
      new Option(
        '--token <token>',
        `clients must present this token, at least ${MIN_TOKEN_LENGTH} characters (default: a random one, printed)`,
      ).env('CCTFER_TOKEN'),
    )
    .option('--no-auth', 'accept clients without a token (loopback hosts only)')
    .option(
      '--allow-host <name>',
      'host name clients may address besides loopback names and --host (e.g. this machine’s LAN name); repeatable',
      collect,
      [],
    )
    .option(
      '--allow-origin <origin>',
      'browser origin allowed to connect, besides the server itself; repeatable',
      collect,
      [],
    )
    .addOption(
      new Option(
        '--pace <pace>',
        "files: 'native' plays at the frame rate like a camera (drops frames when behind); 'none' analyses every frame as fast as possible",
      )
        .choices(['native', 'none'])
        .default('native'),
    )
    .option('--loop', 'loop files forever', false)
    .option('--fps <n>', 'analyse at most this many frames a second per source', Number)
    .option(
      '--max-size <px>',
      'scale frames down so the longer side is at most this',
      positiveInt('--max-size'),
      1280,
    )
    .addOption(
      new Option(
        '--smoothing <spec>',
        'per-face smoothing: ema:<half-life ms> | window:<ms> | none',
      )
        .argParser(parseCausalSmoothing)
        .default(parseCausalSmoothing('ema:300'), 'ema:300'),
    )
    .option(
      '--rate <n>',
      'messages a client may send per second (bursts of twice that)',
      positiveInt('--rate'),
      60,
    )
    .action(async (opts) => {
      const { startServe } = await import('../../pipelines/serve.ts');
      const { initBackend } = await import('../engine/backend.ts');
      const o = opts as {
        source: string[];
        bundle?: string;
        engine: 'onnx' | 'tfjs';
        backend: ReturnType<typeof parseBackendName>;
        threads: number;
        host: string;
        port: number;
        token?: string;
        auth: boolean;
        allowOrigin: string[];
        allowHost: string[];
        detector: 'full-range' | 'short-range';
        detectEvery: number;
        pace: 'native' | 'none';
        loop: boolean;
        fps?: number;
        maxSize: number;
        smoothing: ReturnType<typeof parseCausalSmoothing>;
        rate: number;
      };
      if (o.engine === 'tfjs') await initBackend({ backend: o.backend, log: console.error });
      const token = o.auth ? (o.token ?? randomBytes(24).toString('base64url')) : undefined;
      const running = await startServe({
        sources: o.source,
        ...(o.bundle && { bundle: o.bundle }),
        engine: o.engine,
        threads: o.threads,
        host: o.host,
        port: o.port,
        ...(token && { token }),
        auth: o.auth,
        ...(o.allowOrigin.length && { allowedOrigins: o.allowOrigin }),
        ...(o.allowHost.length && { allowedHosts: o.allowHost }),
        detector: o.detector,
        detectEvery: o.detectEvery,
        pace: o.pace,
        loop: o.loop,
        ...(o.fps && { fps: o.fps }),
        maxSize: o.maxSize,
        smoothing: o.smoothing,
        rate: { perSecond: o.rate, burst: 2 * o.rate },
        ffmpeg: cliFfmpeg(),
        ...(process.env.PATH && { pathEnv: process.env.PATH }),
        log: (line) => console.error(`cctfer: ${line}`),
      });
      const q = token ? `?token=${encodeURIComponent(token)}` : '';
      console.log(
        `cctfer serving ${o.source.length ? o.source.join(', ') : 'client-pushed frames only'}`,
      );
      console.log(`  web page   ${running.url}/${q}`);
      console.log(`  WebSocket  ${running.url.replace(/^http/, 'ws')}/ws${q}`);
      console.log(`  health     ${running.url}/health   metrics ${running.url}/metrics${q}`);
      if (!token) console.log('  auth       off (loopback only)');
      running.pipeline.events$.subscribe((e) => {
        if (e.type === 'end')
          console.log(
            `source ${e.source} ended (${e.reason}): ${e.frames} frames analysed, ${e.dropped} dropped`,
          );
        if (e.type === 'error') console.error(`cctfer: source ${e.source}: ${e.message}`);
      });
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      console.log('shutting down');
      await running.close();
    });
}
