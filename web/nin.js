// nin.js - nin in JavaScript: the WebAssembly build of the runtime (nin.wasm, `make wasm`) behind
// a small API, for browsers and Node 20 or later, with no dependencies. It owns loading nin.wasm
// (or nin-relaxed.wasm where the engine has relaxed SIMD; one instance, shared by every model), moving bytes in and out of its linear memory, and
// turning the C API's status codes into NinError. Types: nin.d.ts.
//
//   import { loadModel } from './nin.js';
//   const model = await loadModel(new URL('../models/fashion_classic.nin', import.meta.url));
//   model.classify(imageData, { top: 3 });   // [{ label, index, probability }, ...]
//   model.dispose();

/** Status codes of nin.h (nin_status). */
export const Status = Object.freeze({
  OK: 0, INVALID_ARGUMENT: 1, IO: 2, BAD_MODEL: 3, BAD_IMAGE: 4, BUFFER_TOO_SMALL: 5,
  OUT_OF_MEMORY: 6, STATE: 7,
});

/** An error from the runtime (or from this module's own checks), with the C API's status. */
export class NinError extends Error {
  /**
   * @param {string} message what is wrong
   * @param {number} status a Status value
   * @param {string} statusName its name in nin.h ("NIN_ERROR_BAD_MODEL")
   */
  constructor(message, status, statusName) {
    super(message);
    this.name = 'NinError';
    this.status = status;
    this.statusName = statusName;
  }
}

const STATUS_NAMES = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, v === 0 ? 'NIN_OK' : `NIN_ERROR_${k}`]));
const invalid = (message) => new NinError(message, Status.INVALID_ARGUMENT, STATUS_NAMES[Status.INVALID_ARGUMENT]);
const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Reads a URL (or path, in Node) as bytes: fetch, or the file system for file: URLs in Node. */
async function readBytes(source) {
  const url = source instanceof URL ? source : new URL(String(source), isNode ? `file://${process.cwd()}/` : globalThis.location?.href);
  if (isNode && url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new NinError(`cannot fetch ${url}: HTTP ${response.status}`, Status.IO, STATUS_NAMES[Status.IO]);
  return new Uint8Array(await response.arrayBuffer());
}

/** The runtime: one WebAssembly instance and helpers over its memory. */
class Runtime {
  constructor(instance) {
    this.exports = instance.exports;
    this.decoder = new TextDecoder();
  }

  get bytes() { return new Uint8Array(this.exports.memory.buffer); }
  get view() { return new DataView(this.exports.memory.buffer); }

  /** `size` bytes of linear memory (free with `free`); throws OUT_OF_MEMORY. */
  alloc(size) {
    const at = this.exports.malloc(Math.max(size, 1));
    if (at === 0) throw new NinError(`cannot allocate ${size} bytes of WebAssembly memory`, Status.OUT_OF_MEMORY, STATUS_NAMES[Status.OUT_OF_MEMORY]);
    return at;
  }

  free(at) { if (at) this.exports.free(at); }

  string(at) {
    if (!at) return null;
    const bytes = this.bytes;
    let end = at;
    while (bytes[end]) end++;
    return this.decoder.decode(bytes.subarray(at, end));
  }

  /** Throws a NinError for a status other than NIN_OK, with the runtime's last error message. */
  check(status) {
    if (status === Status.OK) return;
    throw new NinError(this.string(this.exports.nin_last_error()) ?? 'unknown error', status,
      this.string(this.exports.nin_status_string(status)));
  }
}

let runtimePromise = null;

/**
 * A 37-byte module whose one function is i32x4.relaxed_dot_i8x16_i7x16_add_s: an engine
 * validates it only where it has relaxed SIMD (Chromium; Node with --experimental-wasm-relaxed-simd).
 */
const RELAXED_SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123,
  3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 147, 2, 11]);

/** The module beside this file that this engine runs best: nin-relaxed.wasm with relaxed SIMD, else nin.wasm. */
export function defaultWasmURL() {
  return new URL(WebAssembly.validate(RELAXED_SIMD_PROBE) ? './nin-relaxed.wasm' : './nin.wasm', import.meta.url);
}

/**
 * The shared runtime, instantiated on first use from `wasm` (bytes, a URL, or by default
 * `defaultWasmURL()`).
 */
function runtime(wasm) {
  if (!runtimePromise) {
    runtimePromise = (async () => {
      const bytes = wasm instanceof Uint8Array || wasm instanceof ArrayBuffer ? wasm : await readBytes(wasm ?? defaultWasmURL());
      const imports = { env: { ninjs_monotonic_ns: () => BigInt(Math.round(performance.now() * 1e6)) } };
      const { instance } = await WebAssembly.instantiate(bytes, imports);
      return new Runtime(instance);
    })();
    runtimePromise.catch(() => { runtimePromise = null; });
  }
  return runtimePromise;
}

/**
 * Loads a model (.nin bytes, or a URL or path to fetch them from).
 * @param {Uint8Array|ArrayBuffer|URL|string} source
 * @param {{wasm?: Uint8Array|ArrayBuffer|URL|string}} [options] where nin.wasm is (default: `defaultWasmURL()`,
 *   beside nin.js)
 * @returns {Promise<Model>}
 */
export async function loadModel(source, options = {}) {
  let bytes;
  if (source instanceof Uint8Array) bytes = source;
  else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
  else if (source instanceof URL || typeof source === 'string') bytes = await readBytes(source);
  else throw invalid('loadModel takes the model as a Uint8Array, an ArrayBuffer, a URL or a URL string');
  if (bytes.length === 0) throw invalid('the model has 0 bytes');
  const rt = await runtime(options.wasm);
  return new Model(rt, bytes);
}

/** Linear memory figures of the shared runtime (tests and diagnostics). */
export async function memoryStats() {
  const rt = await runtime();
  return { memoryBytes: rt.exports.memory.buffer.byteLength, heapBytes: rt.exports.ninpriv_bare_heap_bytes(),
    heapUsed: rt.exports.ninpriv_bare_heap_used() };
}

/** A loaded model and one inference context (one image at a time, one thread). */
export class Model {
  /** Use loadModel. */
  constructor(rt, bytes) {
    this._rt = rt;
    const e = rt.exports;
    const data = rt.alloc(bytes.length), out = rt.alloc(16);
    try {
      rt.bytes.set(bytes, data);
      rt.check(e.nin_model_load_memory(data, bytes.length, out));
      this._model = rt.view.getUint32(out, true);
      const status = e.nin_context_create(this._model, 0, out);
      if (status !== Status.OK) {
        e.nin_model_free(this._model);
        rt.check(status);
      }
      this._context = rt.view.getUint32(out, true);
      rt.check(e.nin_model_input_shape(this._model, out, out + 4, out + 8));
      const v = rt.view;
      /** The model's input: channels, height and width (images of any size are resized to it). */
      this.inputShape = Object.freeze({ channels: v.getInt32(out, true), height: v.getInt32(out + 4, true), width: v.getInt32(out + 8, true) });
    } finally {
      rt.free(data);
      rt.free(out);
    }
    const classes = e.nin_model_class_count(this._model);
    /** The class labels, in class order. */
    this.labels = Object.freeze(Array.from({ length: classes }, (_, i) => rt.string(e.nin_model_label(this._model, i))));
    /** The kernel family the model runs ("wasmrelaxed" or "wasmsimd"). */
    this.kernels = rt.string(e.nin_model_kernels(this._model));
    // Reused memory: the image struct, results, and the pixels (grown when an image needs more).
    this._image = rt.alloc(20);
    this._results = rt.alloc(8 * Math.max(classes, 1));
    this._pixels = 0;
    this._pixelCapacity = 0;
  }

  _live() {
    if (!this._context) throw new NinError('the model was disposed', Status.STATE, STATUS_NAMES[Status.STATE]);
    return this._rt;
  }

  /** Copies `pixels` in and fills the nin_image struct; its checks happen before any copy. */
  _stage(pixels) {
    const rt = this._live();
    if (pixels === null || typeof pixels !== 'object') throw invalid('pixels must be an ImageData or {data, width, height, channels}');
    const { data, width, height } = pixels;
    const channels = pixels.channels ?? 4;
    if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) throw invalid('pixels.data must be a Uint8Array or Uint8ClampedArray');
    for (const [name, value] of [['width', width], ['height', height]]) {
      if (!Number.isInteger(value) || value < 1 || value > 16384) throw invalid(`pixels.${name} is ${value}, expected an integer from 1 to 16384`);
    }
    if (![1, 2, 3, 4].includes(channels)) throw invalid(`pixels.channels is ${channels}, expected 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)`);
    const size = width * height * channels;
    if (data.length !== size) throw invalid(`pixels.data has ${data.length} bytes but ${width}x${height}x${channels} needs ${size}`);
    if (size > this._pixelCapacity) {
      const grown = rt.alloc(size);
      rt.free(this._pixels);
      this._pixels = grown;
      this._pixelCapacity = size;
    }
    rt.bytes.set(data, this._pixels);
    const v = rt.view;
    v.setUint32(this._image, this._pixels, true);
    v.setInt32(this._image + 4, width, true);
    v.setInt32(this._image + 8, height, true);
    v.setInt32(this._image + 12, channels, true);
    v.setUint32(this._image + 16, 0, true);
    return rt;
  }

  _run(pixels) {
    const rt = this._stage(pixels);
    rt.check(rt.exports.nin_run_images(this._context, this._image, 1));
    return rt;
  }

  /**
   * The logits (dequantized global-average-pool outputs) of one image.
   * @returns {Float32Array}
   */
  logits(pixels) {
    const rt = this._run(pixels);
    const classes = this.labels.length;
    rt.check(rt.exports.nin_context_logits(this._context, 0, this._results, classes));
    return new Float32Array(rt.exports.memory.buffer.slice(this._results, this._results + 4 * classes));
  }

  /**
   * The `top` most probable classes of one image, best first.
   * @returns {{label: string, index: number, probability: number}[]}
   */
  classify(pixels, { top = 5 } = {}) {
    const classes = this.labels.length;
    if (!Number.isInteger(top) || top < 1) throw invalid(`top is ${top}, expected an integer from 1 to ${classes}`);
    const k = Math.min(top, classes);
    const rt = this._run(pixels);
    const indices = this._results, probabilities = this._results + 4 * classes;
    rt.check(rt.exports.nin_context_top_k(this._context, 0, k, indices, probabilities));
    const v = rt.view;
    return Array.from({ length: k }, (_, i) => {
      const index = v.getInt32(indices + 4 * i, true);
      return { label: this.labels[index], index, probability: v.getFloat32(probabilities + 4 * i, true) };
    });
  }

  /**
   * The class heatmap of one image (nin_context_heatmap): the image in gray under the confidence
   * map of class `cls` (an index or a label; the most probable class when omitted), as RGBA.
   * @returns {ImageData|{data: Uint8ClampedArray, width: number, height: number}}
   */
  heatmap(pixels, { cls } = {}) {
    let index = -1;
    if (typeof cls === 'string') {
      index = this.labels.indexOf(cls);
      if (index < 0) throw invalid(`cls "${cls}" is not one of the model's labels`);
    } else if (cls !== undefined && cls !== null) {
      if (!Number.isInteger(cls) || cls < 0 || cls >= this.labels.length) throw invalid(`cls is ${cls}, expected 0 to ${this.labels.length - 1} or a label`);
      index = cls;
    }
    const rt = this._run(pixels);
    const out = rt.alloc(20);
    try {
      rt.check(rt.exports.nin_context_heatmap(this._context, 0, index, this._image, out));
      const v = rt.view;
      const at = v.getUint32(out, true), width = v.getInt32(out + 4, true), height = v.getInt32(out + 8, true);
      const rgb = rt.bytes.subarray(at, at + width * height * 3);
      const rgba = new Uint8ClampedArray(width * height * 4);
      for (let p = 0, q = 0; p < rgb.length; p += 3, q += 4) {
        rgba[q] = rgb[p]; rgba[q + 1] = rgb[p + 1]; rgba[q + 2] = rgb[p + 2]; rgba[q + 3] = 255;
      }
      rt.exports.nin_image_free(out);
      return typeof ImageData === 'function' ? new ImageData(rgba, width, height) : { data: rgba, width, height, colorSpace: 'srgb' };
    } finally {
      rt.free(out);
    }
  }

  /** Releases the model's memory; later calls throw a NinError (STATE). Calling it again does nothing. */
  dispose() {
    if (!this._context) return;
    const rt = this._rt, e = rt.exports;
    e.nin_context_free(this._context);
    e.nin_model_free(this._model);
    rt.free(this._image);
    rt.free(this._results);
    rt.free(this._pixels);
    this._context = this._model = this._image = this._results = this._pixels = 0;
  }
}
