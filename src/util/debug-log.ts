/**
 * The debug logger: lines for developers (MediaPipe's and ONNX Runtime's own chatter, timings)
 * go to stderr only when `DEBUG` names cctfer (`DEBUG=cctfer`, `DEBUG=*`) or the CLI's
 * `--verbose` turned it on; otherwise they are dropped. Nothing here ever writes to stdout.
 */
let enabled = /(^|,)\s*(cctfer|\*)\s*(,|$)/.test(process.env.DEBUG ?? '');

export function setVerbose(on: boolean): void {
  enabled = on;
}

export function verbose(): boolean {
  return enabled;
}

export function debugLog(line: string): void {
  if (enabled) process.stderr.write(`cctfer: ${line.replace(/\n$/, '')}\n`);
}
