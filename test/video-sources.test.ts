import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeFrames } from '../src/video/decode.ts';
import { resolveFfmpeg } from '../src/video/ffmpeg-binary.ts';
import { resolveSource } from '../src/video/source.ts';

const zoom = fileURLToPath(new URL('../fixtures/zoom.mp4', import.meta.url));

async function count(input: string, format?: string): Promise<number> {
  let n = 0;
  for await (const frame of decodeFrames(input, { ...(format && { format }) }))
    n += frame.index >= 0 ? 1 : 0;
  return n;
}

describe('video sources', () => {
  let server: Server;
  let base: string;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-src-'));
    server = createServer((req, res) => {
      if (req.url === '/zoom.mp4') {
        res.writeHead(200, { 'content-type': 'video/mp4' });
        createReadStream(zoom).pipe(res);
      } else {
        res.writeHead(404).end('not found');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('decodes an http URL (a local server) frame for frame like the file', async () => {
    const src = await resolveSource(`${base}/zoom.mp4`);
    assert.equal(src.live, false);
    assert.equal(await count(src.input), await count(zoom));
  });

  it('a URL that fails is a clear error', async () => {
    await assert.rejects(count(`${base}/missing.mp4`), /missing.mp4: cannot fetch \(.*404/);
  });

  it('decodes an image sequence (the cropped_aligned layout: 00001.jpg, …)', async () => {
    const ffmpeg = resolveFfmpeg().path;
    await promisify(execFile)(ffmpeg, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      zoom,
      '-frames:v',
      '12',
      '-start_number',
      '1',
      join(dir, '%05d.jpg'),
    ]);
    const src = await resolveSource(join(dir, '%05d.jpg'));
    assert.equal(src.format, 'image2');
    assert.equal(await count(src.input, src.format), 12);
  });

  it('webcam specs map to live device inputs', async () => {
    assert.deepEqual(await resolveSource('webcam'), {
      input: '/dev/video0',
      format: 'v4l2',
      live: true,
      label: 'webcam',
    });
    assert.deepEqual(await resolveSource('webcam:/dev/video2'), {
      input: '/dev/video2',
      format: 'v4l2',
      live: true,
      label: 'webcam:/dev/video2',
    });
    assert.equal((await resolveSource('avfoundation:0')).format, 'avfoundation');
  });

  it('a page URL without yt-dlp installed says how to get it', async () => {
    await assert.rejects(
      resolveSource('https://www.youtube.com/watch?v=abc', { pathEnv: '/nonexistent' }),
      /looks like a web page, not a media file: install yt-dlp/,
    );
  });
});
