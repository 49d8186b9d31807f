// The page: connects to the server's WebSocket (token from ?token=), lets you pick a server source
// or your own webcam, and draws every `frame` message. Reconnects after a lost connection.
import { drawOverlay, renderFaces, Timelines } from './draw.js';
import { CameraPusher } from './camera.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const token = params.get('token') ?? '';
const ui = {
  status: $('status'),
  drops: $('drops'),
  source: $('source'),
  video: $('video'),
  overlay: $('overlay'),
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
  error: '',
});

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
  ws.onmessage = (e) => onMessage(JSON.parse(e.data));
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
      if (selected === 'camera') camera?.resultArrived();
      drawOverlay(ui.overlay, m);
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
  drawOverlay(ui.overlay, undefined);
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
    ui.hint.textContent = `server source ${value}: boxes on a blank stage`;
    send({ type: 'subscribe', sources: [value] });
  }
}

ui.source.addEventListener('change', () => choose(ui.source.value));
connect();
