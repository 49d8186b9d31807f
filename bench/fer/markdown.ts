/** Small formatting helpers shared by the fer-noise report's tables. */
export const pct = (x: number) => (100 * x).toFixed(1);
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
export function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}
