/** Renders server figures in the Prometheus text exposition format (version 0.0.4). */
import type { SourceStats } from '../stream/stats.ts';

export interface ServerFigures {
  sources: SourceStats[];
  clients: number;
  clientFramesDropped: number;
  rejected: Record<string, number>;
  eventLoopDelayP99Ms: number;
  residentBytes: number;
}

function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function renderMetrics(f: ServerFigures): string {
  const lines: string[] = [];
  const metric = (
    name: string,
    type: 'counter' | 'gauge' | 'summary',
    help: string,
    rows: [string, number][],
  ) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows) lines.push(`${name}${labels} ${Number.isFinite(v) ? v : 0}`);
  };
  const perSource = (pick: (s: SourceStats) => number): [string, number][] =>
    f.sources.map((s) => [`{source="${label(s.source)}"}`, pick(s)]);
  metric(
    'cctfer_frames_in_total',
    'counter',
    'Frames that entered the pipeline.',
    perSource((s) => s.framesIn),
  );
  metric(
    'cctfer_frames_analysed_total',
    'counter',
    'Frames analysed.',
    perSource((s) => s.framesAnalysed),
  );
  metric(
    'cctfer_frames_dropped_total',
    'counter',
    'Frames dropped at the source (latest wins).',
    perSource((s) => s.framesDropped),
  );
  metric(
    'cctfer_faces_total',
    'counter',
    'Faces classified.',
    perSource((s) => s.faces),
  );
  metric(
    'cctfer_analysed_fps',
    'gauge',
    'Analysed frames per second, recent.',
    perSource((s) => s.fps),
  );
  metric(
    'cctfer_latency_ms',
    'summary',
    'Frame-to-result latency over the last 1024 frames.',
    f.sources.flatMap((s) => [
      [`{source="${label(s.source)}",quantile="0.5"}`, s.latencyMs.p50] as [string, number],
      [`{source="${label(s.source)}",quantile="0.95"}`, s.latencyMs.p95] as [string, number],
    ]),
  );
  metric('cctfer_clients', 'gauge', 'Connected WebSocket clients.', [['', f.clients]]);
  metric(
    'cctfer_client_frames_dropped_total',
    'counter',
    'Frame messages dropped for slow clients.',
    [['', f.clientFramesDropped]],
  );
  metric(
    'cctfer_messages_rejected_total',
    'counter',
    'Client messages answered with an error, by code.',
    Object.entries(f.rejected).map(([code, n]) => [`{code="${label(code)}"}`, n]),
  );
  metric('cctfer_event_loop_delay_p99_ms', 'gauge', 'Event-loop delay, 99th percentile.', [
    ['', f.eventLoopDelayP99Ms],
  ]);
  metric('process_resident_memory_bytes', 'gauge', 'Resident memory.', [['', f.residentBytes]]);
  return lines.join('\n') + '\n';
}
