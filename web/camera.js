// The browser's own camera as a source: frames are JPEG-encoded and pushed to the server as binary
// WebSocket messages, one at a time (the next is sent when the previous result arrives, or after
// a timeout), so a slow server means fewer frames, never a growing queue.

export class CameraPusher {
  constructor(video, send, { maxSide = 640, quality = 0.8, timeoutMs = 1000 } = {}) {
    this.video = video;
    this.send = send;
    this.maxSide = maxSide;
    this.quality = quality;
    this.timeoutMs = timeoutMs;
    this.canvas = document.createElement('canvas');
    this.frame = 0;
    this.waiting = false;
    this.running = false;
  }

  async start() {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { width: 640, height: 480 },
      audio: false,
    });
    this.video.srcObject = stream;
    await this.video.play();
    this.running = true;
    this.pushNext();
  }

  stop() {
    this.running = false;
    for (const t of this.video.srcObject?.getTracks() ?? []) t.stop();
    this.video.srcObject = null;
  }

  /** Called when a result for a pushed frame arrives. */
  resultArrived() {
    this.waiting = false;
    clearTimeout(this.timer);
    this.pushNext();
  }

  pushNext() {
    if (!this.running || this.waiting) return;
    const { videoWidth: w, videoHeight: h } = this.video;
    if (!w || !h) {
      setTimeout(() => this.pushNext(), 50);
      return;
    }
    const s = Math.min(1, this.maxSide / Math.max(w, h));
    this.canvas.width = Math.round(w * s);
    this.canvas.height = Math.round(h * s);
    this.canvas.getContext('2d').drawImage(this.video, 0, 0, this.canvas.width, this.canvas.height);
    this.waiting = true;
    this.canvas.toBlob(
      (blob) => {
        if (!blob || !this.running) return;
        this.send({ type: 'push', frame: this.frame++ }, blob);
        // A result may never come (no face is still a result, but a dropped frame is not).
        this.timer = setTimeout(() => this.resultArrived(), this.timeoutMs);
      },
      'image/jpeg',
      this.quality,
    );
  }
}
