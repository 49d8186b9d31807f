// Drawing: the preview picture, boxes and labels over it, per-face probability bars, a legend, and
// a timeline strip of the dominant (smoothed) expression per face.

// One colour table for the page and for annotate's reports (src/annotate/timeline.ts reads it too).
import COLOURS from './expression-colours.json' with { type: 'json' };

export { COLOURS };
const colour = (label) => COLOURS[label] ?? '#ffffff';

const LABEL_HEIGHT = 24;
const GAUGE_HEIGHT = 3;

/** The probability the model gives a face's own (smoothed) label. */
export function labelProbability(face, classes) {
  const i = classes.indexOf(face.smoothedLabel);
  return i >= 0 ? (face.smoothed[i] ?? 0) : 0;
}

const intersects = (a, b) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/**
 * Places one label per face, above its box where there is room, otherwise below; a label that
 * would cover one already placed moves up or down (whichever is nearer) until it is clear.
 * Returns rectangles in canvas pixels, in the faces' order.
 */
export function placeLabels(faces, widths, sx, sy, canvasWidth, canvasHeight) {
  const order = faces.map((_, i) => i).sort((a, b) => faces[a].box.y - faces[b].box.y);
  const placed = [];
  const out = new Array(faces.length);
  for (const i of order) {
    const f = faces[i];
    const x = Math.max(0, Math.min(f.box.x * sx, canvasWidth - widths[i]));
    const top = f.box.y * sy;
    const wanted = top >= LABEL_HEIGHT ? top - LABEL_HEIGHT : (f.box.y + f.box.height) * sy;
    const rect = { x, y: wanted, width: widths[i], height: LABEL_HEIGHT };
    // Try the wanted row, then rows further away on either side, one label height at a time.
    for (let step = 1; placed.some((p) => intersects(rect, p)) && step < 200; step++) {
      const k = Math.ceil(step / 2) * (step % 2 ? -1 : 1);
      const y = wanted + k * (LABEL_HEIGHT + 1);
      if (y < 0 || y + LABEL_HEIGHT > canvasHeight) continue;
      rect.y = y;
    }
    placed.push(rect);
    out[i] = rect;
  }
  return out;
}

/**
 * Boxes, ids, smoothed labels with their probability, and the members' agreement (consensus) as a
 * thin gauge under each label, scaled from the analysed frame to the canvas. Returns the label
 * rectangles (exposed to tests).
 */
export function drawOverlay(canvas, message, classes = []) {
  const ctx = canvas.getContext('2d');
  canvas.width = canvas.clientWidth;
  canvas.height = canvas.clientHeight;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!message) return [];
  const sx = canvas.width / message.width;
  const sy = canvas.height / message.height;
  ctx.font = 'bold 14px system-ui, sans-serif';
  const texts = message.faces.map(
    (f) => `#${f.id} ${f.smoothedLabel} ${Math.round(labelProbability(f, classes) * 100)}%`,
  );
  const widths = texts.map((t) => Math.ceil(ctx.measureText(t).width) + 10);
  const rects = placeLabels(message.faces, widths, sx, sy, canvas.width, canvas.height);
  message.faces.forEach((f, i) => {
    const c = colour(f.smoothedLabel);
    const r = rects[i];
    ctx.lineWidth = 3;
    ctx.strokeStyle = c;
    ctx.strokeRect(f.box.x * sx, f.box.y * sy, f.box.width * sx, f.box.height * sy);
    ctx.fillStyle = 'rgba(0,0,0,0.75)';
    ctx.fillRect(r.x, r.y, r.width, r.height);
    ctx.fillStyle = c;
    ctx.fillText(texts[i], r.x + 5, r.y + 15);
    // Agreement gauge: full width = the members agree completely.
    ctx.fillStyle = '#555';
    ctx.fillRect(r.x, r.y + r.height - GAUGE_HEIGHT, r.width, GAUGE_HEIGHT);
    ctx.fillStyle = '#e0e0e0';
    ctx.fillRect(r.x, r.y + r.height - GAUGE_HEIGHT, r.width * f.consensus, GAUGE_HEIGHT);
  });
  return rects;
}

/** Draws a preview picture (an ImageBitmap) to fill the canvas. */
export function drawPicture(canvas, bitmap) {
  canvas.width = canvas.clientWidth;
  canvas.height = canvas.clientHeight;
  const ctx = canvas.getContext('2d');
  if (!bitmap) return ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
}

/** The class colours, once. */
export function renderLegend(container, classes) {
  container.replaceChildren(
    ...classes.map((c) => {
      const item = document.createElement('span');
      item.className = 'legend-item';
      item.dataset.class = c;
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = colour(c);
      item.append(swatch, c);
      return item;
    }),
  );
}

/** One card per face: smoothed label, an agreement gauge, a bar per class. */
export function renderFaces(list, message, classes) {
  const seen = new Set();
  for (const f of message.faces) {
    seen.add(String(f.id));
    let li = list.querySelector(`[data-face-id="${f.id}"]`);
    if (!li) {
      li = document.createElement('li');
      li.className = 'face';
      li.dataset.faceId = String(f.id);
      li.innerHTML =
        `<div class="title"><span>Face #${f.id} · <span class="label"></span></span>` +
        `<span class="agreement" title="agreement between the ensemble's members (consensus)">agreement <span class="gauge"><span class="gauge-fill"></span></span></span></div>`;
      for (const c of classes) {
        const row = document.createElement('div');
        row.className = 'bar';
        row.dataset.class = c;
        row.innerHTML = `<span>${c}</span><span class="track"><span class="fill"></span></span><span class="value"></span>`;
        row.querySelector('.fill').style.background = colour(c);
        li.append(row);
      }
      list.append(li);
    }
    li.querySelector('.label').textContent = f.smoothedLabel;
    li.querySelector('.label').style.color = colour(f.smoothedLabel);
    const gauge = li.querySelector('.gauge-fill');
    gauge.style.width = `${(f.consensus * 100).toFixed(1)}%`;
    li.querySelector('.agreement').dataset.value = f.consensus.toFixed(3);
    classes.forEach((c, i) => {
      const row = li.querySelector(`[data-class="${c}"]`);
      const p = f.smoothed[i] ?? 0;
      row.querySelector('.fill').style.width = `${(p * 100).toFixed(2)}%`;
      row.dataset.p = String(p);
      row.querySelector('.value').textContent = `${Math.round(p * 100)}%`;
    });
  }
  for (const li of [...list.children]) if (!seen.has(li.dataset.faceId)) li.remove();
}

/**
 * Keeps the last `seconds` of dominant labels per face and draws them as coloured strips. A face
 * missing from a frame ends its strip there (a gap), so a face that left does not run on.
 */
export class Timelines {
  constructor(container, seconds = 30) {
    this.container = container;
    this.seconds = seconds;
    this.tracks = new Map();
  }

  add(message, now = performance.now()) {
    const present = new Set(message.faces.map((f) => f.id));
    for (const f of message.faces) {
      let t = this.tracks.get(f.id);
      if (!t) {
        const row = document.createElement('div');
        row.className = 'timeline';
        row.dataset.faceId = String(f.id);
        row.innerHTML = `<span>#${f.id}</span><canvas></canvas>`;
        this.container.append(row);
        t = { row, points: [] };
        this.tracks.set(f.id, t);
      }
      t.points.push({ at: now, label: f.smoothedLabel });
    }
    for (const [id, t] of this.tracks)
      if (!present.has(id) && t.points.at(-1)?.label !== null)
        t.points.push({ at: now, label: null });
    const since = now - this.seconds * 1000;
    for (const [id, t] of this.tracks) {
      while (t.points.length && t.points[0].at < since) t.points.shift();
      if (t.points.every((p) => p.label === null)) {
        t.row.remove();
        this.tracks.delete(id);
        continue;
      }
      t.row.dataset.ended = String(t.points.at(-1).label === null);
      const canvas = t.row.querySelector('canvas');
      canvas.width = canvas.clientWidth || 200;
      canvas.height = 14;
      const ctx = canvas.getContext('2d');
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      const span = this.seconds * 1000;
      t.points.forEach((p, i) => {
        if (p.label === null) return;
        const next = t.points[i + 1]?.at ?? now;
        ctx.fillStyle = colour(p.label);
        const x = ((p.at - since) / span) * canvas.width;
        ctx.fillRect(x, 0, Math.max(1, ((next - p.at) / span) * canvas.width), canvas.height);
      });
    }
  }
}
