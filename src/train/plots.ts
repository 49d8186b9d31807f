/** Training plots as SVG files: line charts per epoch and a confusion matrix. No dependencies. */
const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

export function lineChart(
  title: string,
  xLabel: string,
  series: { name: string; values: number[] }[],
): string {
  const W = 520;
  const H = 300;
  const m = { l: 56, r: 120, t: 32, b: 40 };
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  let lo = Math.min(...all, 0);
  let hi = Math.max(...all, 1e-9);
  if (hi - lo < 1e-9) hi = lo + 1;
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const x = (i: number) => m.l + (n === 1 ? 0 : (i / (n - 1)) * (W - m.l - m.r));
  const y = (v: number) => m.t + (1 - (v - lo) / (hi - lo)) * (H - m.t - m.b);
  const ticks = Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  const parts = [
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.r / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`,
    ...ticks.map(
      (t) =>
        `<text x="${m.l - 6}" y="${y(t) + 4}" text-anchor="end" font-size="10">${t.toPrecision(3)}</text><line x1="${m.l}" y1="${y(t)}" x2="${W - m.r}" y2="${y(t)}" stroke="#eee"/>`,
    ),
    ...Array.from(
      { length: n },
      (_, i) =>
        `<text x="${x(i)}" y="${H - m.b + 14}" text-anchor="middle" font-size="10">${i + 1}</text>`,
    ),
  ];
  series.forEach((s, k) => {
    const c = PALETTE[k % PALETTE.length];
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${c}" stroke-width="2"/>`);
    s.values.forEach((v, i) =>
      parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${c}"/>`),
    );
    parts.push(
      `<rect x="${W - m.r + 10}" y="${m.t + k * 18}" width="12" height="4" fill="${c}"/><text x="${W - m.r + 26}" y="${m.t + k * 18 + 5}" font-size="11">${esc(s.name)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif">${parts.join('')}</svg>\n`;
}

export function confusionChart(
  title: string,
  matrix: number[][],
  classes: readonly string[],
): string {
  const cell = 44;
  const l = 90;
  const t = 60;
  const k = classes.length;
  const W = l + k * cell + 20;
  const H = t + k * cell + 20;
  const parts = [
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((v, j) => {
      const f = v / total;
      parts.push(
        `<rect x="${l + j * cell}" y="${t + i * cell}" width="${cell}" height="${cell}" fill="rgb(${Math.round(255 - 200 * f)},${Math.round(255 - 140 * f)},255)" stroke="#ccc"/><text x="${l + j * cell + cell / 2}" y="${t + i * cell + cell / 2 + 4}" text-anchor="middle" font-size="11">${v}</text>`,
      );
    });
    parts.push(
      `<text x="${l - 4}" y="${t + i * cell + cell / 2 + 4}" text-anchor="end" font-size="10">${esc(classes[i] ?? '')}</text>`,
    );
  });
  classes.forEach((c, j) =>
    parts.push(
      `<text x="${l + j * cell + cell / 2}" y="${t - 6}" text-anchor="middle" font-size="9">${esc(c.slice(0, 6))}</text>`,
    ),
  );
  parts.push(`<text x="12" y="${t - 6}" font-size="9">truth ↓ / predicted →</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif">${parts.join('')}</svg>\n`;
}
