// The page: connects to the server's WebSocket (token from ?token=), lets you pick a server source
// or your own webcam, and draws every `frame` message. A server source is shown through preview
// pictures (JPEG, protocol 2), each drawn with the boxes of its own frame. Reconnects after a
// lost connection.
import { drawOverlay, drawPicture, renderFaces, renderLegend, Timelines } from './draw.js';
import { CameraPusher } from './camera.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const token = params.get('token') ?? '';
const ui = {
  status: $('status'),
  drops: $('drops'),
  source: $('source'),
  video: $('video'),
  picture: $('picture'),
  overlay: $('overlay'),
  legend: $('legend'),
  faces: $('faces'),
  hint: $('hint'),
  model: $('model'),
};
const timelines = new Timelines($('timelines'));

/** Visible to tests and the console. */
const state = (window.cctfer = {
  state: 'connecting',
  clientId: '',
  classes: [],
  framesReceived: 0,
  lastFrame: undefined,
  previewsDrawn: 0,
  lastPreview: undefined,
  labelBoxes: [],
  error: '',
});

// Results of the last frames of the selected source, by frame number, waiting for their picture.
const recent = new Map();
const RECENT = 120;

let ws;
let camera;
let selected = params.get('source') ?? '';
let retryMs = 250;

function setStatus(s, text) {
  state.state = s;
  ui.status.dataset.state = s;
  ui.status.textContent = text;
}

function send(message, binary) {
  if (ws?.readyState !== WebSocket.OPEN) return;
  ws.send(JSON.stringify(message));
  if (binary) ws.send(binary);
}

async function connect() {
  setStatus(
    state.state === 'connected' ? 'reconnecting' : state.state,
    state.state === 'connecting' ? 'connecting…' : 'reconnecting…',
  );
  // Browsers hide a refused upgrade's HTTP status, so ask the HTTP side about the token first.
  try {
    const r = await fetch(`/stats?token=${encodeURIComponent(token)}`, { cache: 'no-store' });
    if (r.status === 401) {
      state.error = 'token';
      setStatus(
        'error',
        token
          ? 'wrong token: open the URL that `cctfer serve` printed'
          : 'no token: add ?token=… (printed by `cctfer serve`)',
      );
      return;
    }
  } catch {
    return retry();
  }
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?token=${encodeURIComponent(token)}`;
  ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => {
    retryMs = 250;
  };
  ws.onmessage = (e) =>
    typeof e.data === 'string' ? onMessage(JSON.parse(e.data)) : onPreview(e.data);
  ws.onclose = () => {
    camera?.resultArrived();
    retry();
  };
}

function retry() {
  if (state.error === 'token') return;
  setStatus('reconnecting', `reconnecting in ${(retryMs / 1000).toFixed(1)} s…`);
  setTimeout(connect, retryMs);
  retryMs = Math.min(5000, retryMs * 2);
}

function onMessage(m) {
  switch (m.type) {
    case 'hello': {
      state.clientId = m.clientId;
      state.classes = m.model.classes;
      setStatus('connected', 'connected');
      ui.model.textContent = `model ${m.model.name}: ${m.model.members} members, ${m.model.engine}; protocol ${m.protocol}`;
      renderLegend(ui.legend, state.classes);
      fillSources(m.sources);
      choose(selected);
      break;
    }
    case 'sources':
      fillSources(m.sources);
      break;
    case 'frame': {
      const mine =
        selected === 'camera' ? m.source === `push:${state.clientId}` : m.source === selected;
      if (!mine) return;
      state.framesReceived++;
      state.lastFrame = m;
      if (selected === 'camera') {
        camera?.resultArrived();
        // The camera's own video plays under the overlay: draw each result as it comes.
        state.labelBoxes = drawOverlay(ui.overlay, m, state.classes);
      } else {
        recent.set(m.frame, m);
        if (recent.size > RECENT) recent.delete(recent.keys().next().value);
      }
      renderFaces(ui.faces, m, state.classes);
      timelines.add(m);
      ui.drops.textContent = `frame ${m.frame} · ${m.latencyMs} ms · dropped ${m.dropped} at source, ${m.clientDropped} for this page`;
      break;
    }
    case 'end':
      if (m.source === selected)
        ui.hint.textContent = `source ${m.source} ended (${m.reason}): ${m.frames} frames analysed, ${m.dropped} dropped`;
      break;
    case 'error':
      console.warn('cctfer:', m.code, m.message);
      if (m.code === 'source_failed' && m.source === selected)
        ui.hint.textContent = `source failed: ${m.message}`;
      break;
  }
}

/** A preview picture: draw it, then the boxes of the frame it shows (never another frame's). */
async function onPreview(buffer) {
  const view = new DataView(buffer);
  const n = view.getUint32(0);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
  if (header.source !== selected) return;
  const bitmap = await createImageBitmap(
    new Blob([new Uint8Array(buffer, 4 + n)], { type: 'image/jpeg' }),
  );
  if (header.source !== selected) return bitmap.close();
  drawPicture(ui.picture, bitmap);
  bitmap.close();
  const result = recent.get(header.frame);
  state.labelBoxes = drawOverlay(ui.overlay, result, state.classes);
  state.previewsDrawn++;
  state.lastPreview = {
    frame: header.frame,
    width: header.width,
    height: header.height,
    faces: result?.faces ?? [],
    frameWidth: header.frameWidth,
    frameHeight: header.frameHeight,
  };
}

function fillSources(sources) {
  for (const s of sources) {
    if (ui.source.querySelector(`option[value="${CSS.escape(s.id)}"]`)) continue;
    const o = document.createElement('option');
    o.value = s.id;
    o.textContent = `${s.id} (${s.kind})`;
    ui.source.append(o);
  }
}

async function choose(value) {
  if (value !== selected && selected && selected !== 'camera')
    send({ type: 'unsubscribe', sources: [selected] });
  if (value !== 'camera' && camera) {
    camera.stop();
    camera = undefined;
  }
  selected = value;
  ui.source.value = value;
  ui.faces.replaceChildren();
  recent.clear();
  drawOverlay(ui.overlay, undefined);
  drawPicture(ui.picture, undefined);
  if (!value) return;
  if (value === 'camera') {
    ui.hint.textContent = 'your webcam: frames are analysed on the server';
    if (!camera) {
      camera = new CameraPusher(ui.video, send);
      try {
        await camera.start();
      } catch (err) {
        ui.hint.textContent = `camera unavailable: ${err.message}`;
        camera = undefined;
      }
    }
  } else {
    ui.hint.textContent = `server source ${value}`;
    send({ type: 'subscribe', sources: [value], preview: { maxWidth: 640, fps: 15 } });
  }
}

ui.source.addEventListener('change', () => choose(ui.source.value));
connect();
