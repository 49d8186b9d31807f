/// <reference lib="dom" />
/**
 * The web page in a real browser: Debian's chromium driven by playwright-core, its fake camera fed
 * from the fixture video (converted to y4m); and annotate's report.html, opened offline. Skipped
 * with a hint where /usr/bin/chromium is missing (`.ci/run` installs it). Screenshots land in
 * test-artifacts/ (CCTFER_DOCS_SCREENSHOT=1 also refreshes docs/screenshot.png and docs/report.png).
 */
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServe, WEB_ROOT, type RunningServer } from '../pipelines/serve.ts';
import { annotateVideos } from '../pipelines/annotate.ts';
import { CctferServer } from '../src/server/server.ts';
import { resolveFfmpeg } from '../src/video/ffmpeg-binary.ts';
import { AFFWILD2_CLASSES } from '../src/data/classes.ts';
import { astronautClip } from '../scripts/astronaut-clip.ts';

const CHROMIUM = '/usr/bin/chromium';
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const artifacts = here('../test-artifacts');
const TOKEN = 'page-token-0123456789';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: apt-get install chromium`;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface PageState {
  state: string;
  framesReceived: number;
  lastFrame?: { faces: { smoothedLabel: string }[] };
  previewsDrawn: number;
  lastPreview?: { frame: number; faces: { box: Box }[]; frameWidth: number; frameHeight: number };
  labelBoxes: Box[];
}

const pageState = (page: Page) =>
  page.evaluate(() => (window as unknown as { cctfer: PageState }).cctfer);

async function waitForFrames(page: Page, atLeast: number, timeout = 60_000): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const s = (window as unknown as { cctfer: PageState }).cctfer;
      return s.framesReceived >= n && (s.lastFrame?.faces.length ?? 0) > 0;
    },
    atLeast,
    { timeout, polling: 100 },
  );
}

/** Pixels the overlay canvas has drawn (boxes and labels), counted in the page. */
const drawnPixels = (page: Page) =>
  page.evaluate(() => {
    const c = document.getElementById('overlay') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    return n;
  });

/** Waits until the page has drawn `atLeast` preview pictures of a frame with `faces` faces. */
async function waitForPreviews(page: Page, atLeast: number, faces = 1): Promise<void> {
  await page.waitForFunction(
    ([n, k]) => {
      const s = (window as unknown as { cctfer: PageState }).cctfer;
      return s.previewsDrawn >= n && (s.lastPreview?.faces.length ?? 0) >= k;
    },
    [atLeast, faces] as const,
    { timeout: 60_000, polling: 100 },
  );
}

describe('web page in Chromium', { skip }, () => {
  let running: RunningServer;
  let browser: Browser;
  let dir: string;
  let crowd: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-web-'));
    await mkdir(artifacts, { recursive: true });
    // Three faces side by side, closer than one label's width: their labels cannot all sit
    // straight above their boxes.
    crowd = astronautClip(
      join(dir, 'crowd.mp4'),
      '[0]crop=116:150:168:45,scale=104:134,split=3[a][b][c];[a][b][c]hstack=3,pad=640:480:155:180:black,format=yuv420p',
    );
    const y4m = join(dir, 'camera.y4m');
    execFileSync(resolveFfmpeg().path, [
      '-loglevel',
      'error',
      '-i',
      here('../fixtures/zoom.mp4'),
      '-pix_fmt',
      'yuv420p',
      y4m,
    ]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-video-capture=${y4m}`,
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });
  // A fresh server per test: no test sees another's clients or sources.
  beforeEach(async () => {
    running = await startServe({
      sources: [here('../fixtures/zoom.mp4'), crowd],
      port: 0,
      token: TOKEN,
      loop: true,
    });
  });
  afterEach(async () => {
    await running?.close();
  });

  it(
    'analyses the browser camera: labels in the DOM, boxes on the canvas, a screenshot',
    { timeout: 180_000 },
    async () => {
      const page = await browser.newPage({ viewport: { width: 1100, height: 620 } });
      await page.goto(`${running.url}/?token=${TOKEN}&source=camera`);
      await waitForFrames(page, 10);
      const labels = await page.locator('#faces [data-face-id] .label').allTextContents();
      assert.ok(labels.length >= 1, 'a face card');
      assert.ok(
        labels.every((l) => (AFFWILD2_CLASSES as readonly string[]).includes(l)),
        labels.join(),
      );
      assert.equal(labels[0], 'Happiness');
      const bars = await page.locator('#faces [data-face-id] .bar').count();
      assert.equal(bars, 7 * labels.length, 'a bar per class');
      assert.ok((await drawnPixels(page)) > 500, 'boxes and labels are drawn over the video');
      assert.equal(await page.locator('#status').getAttribute('data-state'), 'connected');
      assert.ok((await page.locator('#timelines .timeline').count()) >= 1);
      await page.screenshot({ path: join(artifacts, 'web-camera.png') });
      await page.close();
    },
  );

  it(
    'shows a server source: its picture under the boxes, bars as wide as the probabilities, a legend',
    { timeout: 180_000 },
    async () => {
      const page = await browser.newPage({ viewport: { width: 1100, height: 620 } });
      await page.goto(`${running.url}/?token=${TOKEN}`);
      await page.waitForSelector('#source option[value="zoom"]', { state: 'attached' });
      await page.selectOption('#source', 'zoom');
      await waitForFrames(page, 5);
      await waitForPreviews(page, 3);
      assert.equal((await pageState(page)).lastFrame?.faces[0]?.smoothedLabel, 'Happiness');
      assert.ok((await drawnPixels(page)) > 500, 'boxes and labels');
      // The picture under the overlay: the face's pixels, where the boxes of that frame say.
      const face = await page.evaluate(() => {
        const s = (window as unknown as { cctfer: PageState }).cctfer;
        const c = document.getElementById('picture') as HTMLCanvasElement;
        const p = s.lastPreview!;
        const b = p.faces[0]!.box;
        const x = Math.round(((b.x + b.width / 2) * c.width) / p.frameWidth);
        const y = Math.round(((b.y + b.height / 2) * c.height) / p.frameHeight);
        const d = c.getContext('2d')!.getImageData(x - 5, y - 5, 10, 10).data;
        let sum = 0;
        for (let i = 0; i < d.length; i += 4) sum += d[i]! + d[i + 1]! + d[i + 2]!;
        return sum / (d.length / 4) / 3;
      });
      assert.ok(face > 40, `the face region of the picture is not black (mean level ${face})`);
      // Every bar of every face card: rendered width = probability × track width (±2 px).
      const bars = await page.evaluate(() =>
        Array.from(document.querySelectorAll<HTMLElement>('#faces .bar')).map((row) => ({
          p: Number(row.dataset.p),
          track: row.querySelector('.track')!.getBoundingClientRect().width,
          fill: row.querySelector('.fill')!.getBoundingClientRect().width,
        })),
      );
      assert.ok(bars.length >= 7);
      for (const b of bars)
        assert.ok(Math.abs(b.fill - b.p * b.track) <= 2, `bar ${JSON.stringify(b)}`);
      assert.ok(
        bars.some((b) => b.fill > 0.5 * b.track),
        'a dominant class fills most of its track',
      );
      assert.deepEqual(await page.locator('#legend .legend-item').allTextContents(), [
        ...AFFWILD2_CLASSES,
      ]);
      await page.screenshot({ path: join(artifacts, 'web-server-source.png') });
      if (process.env.CCTFER_DOCS_SCREENSHOT)
        await copyFile(join(artifacts, 'web-server-source.png'), here('../docs/screenshot.png'));
      await page.close();
    },
  );

  it(
    'places the labels of faces close together without overlap',
    { timeout: 180_000 },
    async () => {
      const page = await browser.newPage({ viewport: { width: 1100, height: 620 } });
      await page.goto(`${running.url}/?token=${TOKEN}&source=crowd`);
      await waitForPreviews(page, 2, 3);
      const { labels, faces } = await page.evaluate(() => {
        const s = (window as unknown as { cctfer: PageState }).cctfer;
        return { labels: s.labelBoxes, faces: s.lastPreview!.faces.map((f) => f.box) };
      });
      assert.ok(labels.length >= 3, `${labels.length} labels`);
      const sorted = [...faces].sort((a, b) => a.x - b.x);
      for (let i = 1; i < sorted.length; i++) {
        const gap = sorted[i]!.x - (sorted[i - 1]!.x + sorted[i - 1]!.width);
        assert.ok(gap < 24, `boxes ${gap.toFixed(0)} px apart: closer than one label height`);
      }
      for (let i = 0; i < labels.length; i++)
        for (let j = i + 1; j < labels.length; j++) {
          const a = labels[i]!;
          const b = labels[j]!;
          const overlap =
            a.x < b.x + b.width &&
            b.x < a.x + a.width &&
            a.y < b.y + b.height &&
            b.y < a.y + a.height;
          assert.ok(!overlap, `labels ${i} and ${j} intersect: ${JSON.stringify([a, b])}`);
        }
      await page.screenshot({ path: join(artifacts, 'web-crowd.png') });
      await page.close();
    },
  );

  it(
    "annotate's report.html opens offline: summary table, timeline, thumbnails of each track",
    { timeout: 180_000 },
    async () => {
      const out = join(dir, 'annotated');
      const [r] = await annotateVideos([here('../fixtures/crossing.mp4')], { out });
      assert.equal(r?.status, 'done', r?.error);
      const svg = await readFile(join(r!.dir, 'timeline.svg'), 'utf8');
      assert.match(svg, /^<svg/);
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      // No network at all: anything but the file itself (and inline data) would be a CDN.
      const outside: string[] = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
        outside.push(url);
        return route.abort();
      });
      await page.goto(`file://${join(r!.dir, 'report.html')}`);
      assert.deepEqual(outside, []);
      const faces = r!.summary!.faces.length;
      assert.equal(await page.locator('tbody tr[data-face-id]').count(), faces);
      const shown = await page.evaluate(() => ({
        timeline: document.querySelector('.timeline svg')?.getBoundingClientRect().width ?? 0,
        images: Array.from(document.images).filter((i) => i.complete && i.naturalWidth > 0).length,
        rows: Array.from(document.querySelectorAll('tbody tr')).map(
          (tr) => tr.querySelectorAll('img').length,
        ),
      }));
      assert.ok(shown.timeline > 400, `timeline ${shown.timeline} px wide`);
      assert.ok(
        shown.rows.every((n) => n >= 1),
        `thumbnails per track: ${shown.rows.join(', ')}`,
      );
      assert.equal(
        shown.images,
        shown.rows.reduce((a, b) => a + b, 0),
        'every thumbnail decodes',
      );
      await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });
      if (process.env.CCTFER_DOCS_SCREENSHOT)
        await copyFile(join(artifacts, 'report.png'), here('../docs/report.png'));
      await page.close();
    },
  );

  it('a wrong token shows a clear error', { timeout: 180_000 }, async () => {
    const page = await browser.newPage();
    await page.goto(`${running.url}/?token=nope`);
    await page.waitForSelector('#status[data-state="error"]');
    assert.match((await page.locator('#status').textContent()) ?? '', /wrong token/);
    await page.goto(`${running.url}/`);
    await page.waitForSelector('#status[data-state="error"]');
    assert.match((await page.locator('#status').textContent()) ?? '', /no token/);
    await page.close();
  });

  it('reconnects after the server restarts', { timeout: 180_000 }, async () => {
    const make = (port: number) =>
      new CctferServer({
        pipeline: running.pipeline,
        model: { name: 'default', members: 2, engine: 'onnx' },
        sources: [],
        port,
        token: TOKEN,
        webRoot: WEB_ROOT,
      });
    const first = make(0);
    const { port, url } = await first.listen();
    const page = await browser.newPage();
    await page.goto(`${url}/?token=${TOKEN}&source=camera`);
    await waitForFrames(page, 3);
    await first.close();
    await page.waitForSelector('#status[data-state="reconnecting"]');
    const second = make(port);
    await second.listen();
    try {
      await page.waitForSelector('#status[data-state="connected"]', { timeout: 30_000 });
      const before = (await pageState(page)).framesReceived;
      await waitForFrames(page, before + 3);
    } finally {
      await page.close();
      await second.close();
    }
  });
});
