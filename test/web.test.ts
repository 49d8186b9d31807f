/// <reference lib="dom" />
/**
 * The web page in a real browser: Debian's chromium driven by playwright-core, its fake camera fed
 * from the fixture video (converted to y4m). Skipped with a hint where /usr/bin/chromium is missing
 * (`.ci/run` installs it). Screenshots land in test-artifacts/ (CCTFER_DOCS_SCREENSHOT=1 also
 * refreshes docs/screenshot.png).
 */
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServe, WEB_ROOT, type RunningServer } from '../pipelines/serve.ts';
import { CctferServer } from '../src/server/server.ts';
import { resolveFfmpeg } from '../src/video/ffmpeg-binary.ts';
import { AFFWILD2_CLASSES } from '../src/data/classes.ts';

const CHROMIUM = '/usr/bin/chromium';
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const artifacts = here('../test-artifacts');
const TOKEN = 'page-token-0123456789';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: apt-get install chromium`;

interface PageState {
  state: string;
  framesReceived: number;
  lastFrame?: { faces: { smoothedLabel: string }[] };
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

describe('web page in Chromium', { skip }, () => {
  let running: RunningServer;
  let browser: Browser;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-web-'));
    await mkdir(artifacts, { recursive: true });
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
      sources: [here('../fixtures/zoom.mp4')],
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
      if (process.env.CCTFER_DOCS_SCREENSHOT)
        await copyFile(join(artifacts, 'web-camera.png'), here('../docs/screenshot.png'));
      await page.close();
    },
  );

  it('shows a server source chosen from the list', { timeout: 180_000 }, async () => {
    const page = await browser.newPage();
    await page.goto(`${running.url}/?token=${TOKEN}`);
    await page.waitForSelector('#source option[value="zoom"]', { state: 'attached' });
    await page.selectOption('#source', 'zoom');
    await waitForFrames(page, 5);
    assert.equal((await pageState(page)).lastFrame?.faces[0]?.smoothedLabel, 'Happiness');
    assert.ok((await drawnPixels(page)) > 500);
    await page.close();
  });

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
