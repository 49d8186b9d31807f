// Drawing: boxes and labels over the video, per-face probability bars, and a timeline strip of the
// dominant (smoothed) expression per face.

export const COLOURS = {
  Neutral: '#9e9e9e',
  Anger: '#e53935',
  Disgust: '#8e24aa',
  Fear: '#5e35b1',
  Happiness: '#43a047',
  Sadness: '#1e88e5',
  Surprise: '#fdd835',
};
const colour = (label) => COLOURS[label] ?? '#ffffff';

/** Boxes, ids, smoothed labels and consensus, scaled from the analysed frame to the canvas. */
export function drawOverlay(canvas, message) {
  const ctx = canvas.getContext('2d');
  canvas.width = canvas.clientWidth;
  canvas.height = canvas.clientHeight;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!message) return;
  const sx = canvas.width / message.width;
  const sy = canvas.height / message.height;
  ctx.lineWidth = 3;
  ctx.font = 'bold 15px system-ui, sans-serif';
  for (const f of message.faces) {
    const c = colour(f.smoothedLabel);
    const x = f.box.x * sx;
    const y = f.box.y * sy;
    ctx.strokeStyle = c;
    ctx.strokeRect(x, y, f.box.width * sx, f.box.height * sy);
    const text = `#${f.id} ${f.smoothedLabel} · consensus ${f.consensus.toFixed(2)}`;
    const w = ctx.measureText(text).width + 8;
    const ty = y > 22 ? y - 22 : y + f.box.height * sy + 2;
    ctx.fillStyle = 'rgba(0,0,0,0.7)';
    ctx.fillRect(x, ty, w, 20);
    ctx.fillStyle = c;
    ctx.fillText(text, x + 4, ty + 15);
  }
}

/** One card per face: smoothed label, consensus, a bar per class. */
export function renderFaces(list, message, classes) {
  const seen = new Set();
  for (const f of message.faces) {
    seen.add(String(f.id));
    let li = list.querySelector(`[data-face-id="${f.id}"]`);
    if (!li) {
      li = document.createElement('li');
      li.className = 'face';
      li.dataset.faceId = String(f.id);
      li.innerHTML = `<div class="title"><span>Face #${f.id} · <span class="label"></span></span><span class="consensus"></span></div>`;
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
    li.querySelector('.consensus').textContent = `consensus ${f.consensus.toFixed(2)}`;
    classes.forEach((c, i) => {
      const row = li.querySelector(`[data-class="${c}"]`);
      const p = f.smoothed[i] ?? 0;
      row.querySelector('.fill').style.width = `${(p * 100).toFixed(1)}%`;
      row.querySelector('.value').textContent = `${Math.round(p * 100)}%`;
    });
  }
  for (const li of [...list.children]) if (!seen.has(li.dataset.faceId)) li.remove();
}

/** Keeps the last `seconds` of dominant labels per face and draws them as coloured strips. */
export class Timelines {
  constructor(container, seconds = 30) {
    this.container = container;
    this.seconds = seconds;
    this.tracks = new Map();
  }

  add(message, now = performance.now()) {
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
    const since = now - this.seconds * 1000;
    for (const [id, t] of this.tracks) {
      while (t.points.length && t.points[0].at < since) t.points.shift();
      if (t.points.length === 0) {
        t.row.remove();
        this.tracks.delete(id);
        continue;
      }
      const canvas = t.row.querySelector('canvas');
      canvas.width = canvas.clientWidth || 200;
      canvas.height = 14;
      const ctx = canvas.getContext('2d');
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      const span = this.seconds * 1000;
      t.points.forEach((p, i) => {
        const next = t.points[i + 1]?.at ?? now;
        ctx.fillStyle = colour(p.label);
        const x = ((p.at - since) / span) * canvas.width;
        ctx.fillRect(x, 0, Math.max(1, ((next - p.at) / span) * canvas.width), canvas.height);
      });
    }
  }
}
