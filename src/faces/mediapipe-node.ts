/**
 * Runs MediaPipe Tasks (tasks-vision 1.1.0, wasm, CPU delegate) in plain Node. Everything that
 * depends on MediaPipe's browser assumptions lives here:
 * - `self`, `navigator`, `ImageData` and a `WebGLRenderingContext` class must exist;
 * - tasks-vision loads its wasm loader with `importScripts`, and on a TypeError falls back to
 *   `import()`: our `importScripts` throws once, then re-installs the cached `ModuleFactory` for
 *   every later task (tasks-vision consumes the global);
 * - even the CPU delegate opens a WebGL2 context on the `canvas` it is given, but only uploads the
 *   input image (texImage2D) and reads it back (readPixels): a small JS stand-in suffices.
 * test/face-detector.test.ts fails loudly if an upgrade changes any of this.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { debugLog } from '../util/debug-log.ts';

type Dict = Record<string, unknown>;

/** What tasks-vision reads from an image: RGBA bytes and a size. */
export class NodeImageData {
  constructor(
    readonly data: Uint8ClampedArray,
    readonly width: number,
    readonly height: number,
  ) {}
}

/** MediaPipe's own log lines (glog format, TFLite INFO): noise for our users. */
export const MEDIAPIPE_LOG = /^([IWE]\d{4} |INFO: |Graph successfully started running)/;

const GL_CONSTANTS_AND_STATE = /^[A-Z_0-9]+$/;
const CLIENT_WAIT_ALREADY_SIGNALED = 0x911a;

/** A WebGL2 stand-in that stores the last uploaded image and returns it on readPixels. */
function fakeWebGl2(canvas: Dict): Dict {
  let pixels: Uint8Array | undefined;
  const methods: Dict = {
    canvas,
    texImage2D: (...a: unknown[]) => {
      if (a.length === 6) {
        const img = a[5] as NodeImageData;
        pixels = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
      } else if (a.length >= 9 && a[8]) {
        const [w, h] = [a[3] as number, a[4] as number];
        const src = a[8] as Uint8Array;
        pixels = new Uint8Array(src.buffer, src.byteOffset + ((a[9] as number) ?? 0), w * h * 4);
      }
    },
    readPixels: (
      _x: number,
      _y: number,
      w: number,
      h: number,
      _f: number,
      _t: number,
      dst: Uint8Array,
      offset = 0,
    ) => {
      if (pixels) dst.set(pixels.subarray(0, w * h * 4), offset);
    },
    getParameter: () => 4096,
    getSupportedExtensions: () => [],
    getExtension: () => null,
    getError: () => 0,
    isContextLost: () => false,
    getContextAttributes: () => ({}),
    fenceSync: () => ({}),
    clientWaitSync: () => CLIENT_WAIT_ALREADY_SIGNALED,
  };
  return new Proxy(methods, {
    get(target, prop: string) {
      if (prop in target) return target[prop];
      // Emscripten keeps its own bookkeeping (currentPixelPackBufferBinding, …) on the context.
      if (prop.startsWith('current')) return undefined;
      if (GL_CONSTANTS_AND_STATE.test(prop)) return 0;
      return () => ({});
    },
    set(target, prop: string, value) {
      target[prop] = value;
      return true;
    },
  });
}

/** A canvas whose getContext('webgl2') returns the stand-in. */
export function nodeCanvas(): unknown {
  const canvas: Dict = { width: 1, height: 1, addEventListener() {}, removeEventListener() {} };
  const gl = fakeWebGl2(canvas);
  canvas.getContext = (type: string) => (type === 'webgl2' || type === 'webgl' ? gl : null);
  return canvas;
}

let factory: unknown;
let installed: Promise<string> | undefined;

/** Installs the globals MediaPipe needs (once) and returns the tasks-vision wasm directory. */
export function installMediaPipeShim(): Promise<string> {
  installed ??= (async () => {
    const g = globalThis as Dict;
    const wasmDir = join(
      dirname(createRequire(import.meta.url).resolve('@mediapipe/tasks-vision')),
      'wasm',
    );
    g.self ??= globalThis;
    g.navigator ??= { userAgent: 'node' };
    g.WebGLRenderingContext ??= class {};
    g.ImageData ??= NodeImageData;
    g.importScripts = () => {
      if (!factory) throw new TypeError('load the ES module loader with import()');
      primeModuleFactory();
    };
    const mod = (await import(join(wasmDir, 'vision_wasm_module_internal.js'))) as {
      default?: unknown;
    };
    factory = g.ModuleFactory ?? mod.default;
    if (typeof factory !== 'function') {
      throw new Error(
        'tasks-vision changed: vision_wasm_module_internal.js no longer provides ModuleFactory (the Node shim needs updating)',
      );
    }
    return wasmDir;
  })();
  return installed;
}

/**
 * Re-installs the loader's factory: tasks-vision consumes the global on each task creation. The
 * wasm module's stdout/stderr (glog lines, "Graph finished closing successfully.") go to the
 * debug logger instead of the program's own output.
 */
export function primeModuleFactory(): void {
  const make = factory as (arg?: Dict) => unknown;
  const g = globalThis as Dict;
  g.ModuleFactory = (arg: Dict = {}) => make({ ...arg, print: debugLog, printErr: debugLog });
  // glog's warnings arrive through this hook, which the loader sets to console.warn.
  g.custom_dbg = (...parts: unknown[]) => debugLog(parts.join(' '));
}
