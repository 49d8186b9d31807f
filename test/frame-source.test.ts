import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { concatMap, delay, from, lastValueFrom, of, tap, toArray } from 'rxjs';
import { frameSource } from '../src/stream/frame-source.ts';
import { decodeFrames } from '../src/video/decode.ts';

const zoom = fileURLToPath(new URL('../fixtures/zoom.mp4', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A live-like source: produces `n` items every `periodMs` whether or not anyone reads. */
async function* ticking(n: number, periodMs: number, pulled: number[]) {
  for (let i = 0; i < n; i++) {
    await sleep(periodMs);
    pulled.push(i);
    yield i;
  }
}

describe('frameSource', () => {
  it("'pull': every decoded frame once, in order, with at most `credits` in flight", async () => {
    const src = frameSource(decodeFrames(zoom), { credits: 2 });
    let inFlight = 0;
    let maxInFlight = 0;
    const indices = await lastValueFrom(
      src.frames$.pipe(
        tap(() => (maxInFlight = Math.max(maxInFlight, ++inFlight))),
        concatMap((f) => of(f.index).pipe(delay(5))),
        tap(() => {
          inFlight--;
          src.ack();
        }),
        toArray(),
      ),
    );
    assert.deepEqual(
      indices,
      Array.from({ length: 75 }, (_, i) => i),
    );
    assert.ok(maxInFlight <= 2, `in flight ${maxInFlight}`);
    assert.equal(src.dropped(), 0);
  });

  it("'pull': without acks the source is not advanced (the decoder stays paused)", async () => {
    const pulled: number[] = [];
    const src = frameSource(ticking(10, 1, pulled), { credits: 3 });
    const got: number[] = [];
    const sub = src.frames$.subscribe((v) => got.push(v));
    await sleep(80);
    assert.deepEqual(got, [0, 1, 2]);
    assert.equal(pulled.length, 3, 'nothing pulled beyond the credits');
    src.ack();
    await sleep(30);
    assert.deepEqual(got, [0, 1, 2, 3]);
    sub.unsubscribe();
  });

  it("'drop-oldest': a source that fails while every credit is held errors the subscription", async () => {
    // A decoder crash while the analysis held the credits once surfaced as an unhandled rejection
    // that ended the process.
    async function* crashing() {
      yield 0;
      yield 1;
      throw new Error('decoder crashed');
    }
    const src = frameSource(crashing(), { policy: 'drop-oldest', credits: 1 });
    const got: number[] = [];
    const error = await new Promise<Error>((resolve) =>
      src.frames$.subscribe({ next: (v) => got.push(v), error: resolve }),
    );
    assert.match(error.message, /decoder crashed/);
    assert.deepEqual(got, [0], 'no ack was given: one frame delivered');
  });

  it("'drop-oldest': a slow consumer gets the latest frames, drops are counted, latency stays bounded", async () => {
    const pulled: number[] = [];
    const src = frameSource(ticking(40, 2, pulled), {
      policy: 'drop-oldest',
      credits: 1,
      bufferSize: 1,
    });
    const got = await lastValueFrom(
      src.frames$.pipe(
        concatMap((v) => from(sleep(15).then(() => v))),
        tap(() => src.ack()),
        toArray(),
      ),
    );
    assert.equal(pulled.length, 40, 'the live source was read at its own pace');
    assert.ok(got.length < 40 && got.length >= 3, `${got.length} delivered`);
    assert.equal(got.length + src.dropped(), 40);
    assert.ok(
      got.every((v, i) => i === 0 || v > got[i - 1]!),
      'in order',
    );
    assert.equal(got[got.length - 1], 39, 'the last frame is delivered');
  });

  it('unsubscribing stops the decoder; errors propagate', async () => {
    const src = frameSource(decodeFrames(zoom), { credits: 1 });
    const first = await new Promise<number>((resolve) => {
      const sub = src.frames$.subscribe((f) => {
        resolve(f.index);
        sub.unsubscribe();
      });
    });
    assert.equal(first, 0);
    const bad = frameSource(decodeFrames('/nonexistent.mp4'));
    await assert.rejects(lastValueFrom(bad.frames$), /nonexistent.mp4: file not found/);
    assert.throws(() => frameSource(decodeFrames(zoom), { credits: 0 }), /credits must be ≥ 1/);
  });
});
