/**
 * bench/live's client process: opens N WebSocket clients on a running `cctfer serve`, subscribes
 * them all (asking for preview pictures when its last argument is `preview`), and after a warm-up measures frame-to-message latency (receipt time − the server's
 * frame entry time `t`: same machine, same clock) and messages per client for `seconds`.
 * Run by bench/live.ts with fork(); reports one JSON object on IPC.
 */
import { CctferClient } from '../../src/client/index.ts';
import { quantile } from '../../src/stream/stats.ts';

const [url, token, nArg, secondsArg, source, previewArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string | undefined,
];
const preview = previewArg === 'preview';
const n = Number(nArg);
const seconds = Number(secondsArg);
const clients = Array.from({ length: n }, () => new CctferClient(url, { token, reconnect: false }));
await Promise.all(clients.map((c) => c.connect()));
let measuring = false;
const latencies: number[] = [];
const counts = new Array<number>(n).fill(0);
let clientDropped = 0;
let previews = 0;
clients.forEach((c, i) =>
  c.on('frame', (m) => {
    if (!measuring) return;
    latencies.push(Date.now() - m.t);
    counts[i]!++;
    clientDropped = Math.max(clientDropped, m.clientDropped);
  }),
);
for (const c of clients) {
  c.on('preview', () => void (measuring && previews++));
  c.subscribe([source], preview ? { preview: true } : {});
}
await new Promise((r) => setTimeout(r, 1500)); // warm-up: source start, first inferences
process.send?.({ phase: 'start' });
measuring = true;
await new Promise((r) => setTimeout(r, seconds * 1000));
measuring = false;
process.send?.({ phase: 'stop' });
latencies.sort((a, b) => a - b);
process.send?.({
  phase: 'result',
  p50: quantile(latencies, 0.5),
  p95: quantile(latencies, 0.95),
  minPerClient: Math.min(...counts),
  maxPerClient: Math.max(...counts),
  clientDropped,
  previewsPerClient: previews / n,
});
for (const c of clients) c.close();
setTimeout(() => process.exit(0), 200);
