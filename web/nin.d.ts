// nin.d.ts - the types of nin.js (nin in the browser and Node 20+, on nin.wasm).

/** Status codes of nin.h (nin_status). */
export declare const Status: Readonly<{
  OK: 0; INVALID_ARGUMENT: 1; IO: 2; BAD_MODEL: 3; BAD_IMAGE: 4; BUFFER_TOO_SMALL: 5;
  OUT_OF_MEMORY: 6; STATE: 7;
}>;

/** An error from the runtime or from nin.js's own checks: the C API's status and message. */
export declare class NinError extends Error {
  /** A Status value. */
  readonly status: number;
  /** Its name in nin.h, e.g. "NIN_ERROR_BAD_MODEL". */
  readonly statusName: string;
  constructor(message: string, status: number, statusName: string);
}

/** Interleaved 8-bit pixels, row by row: an ImageData (RGBA), or any size and channel count. */
export type Pixels =
  | ImageData
  | { data: Uint8Array | Uint8ClampedArray; width: number; height: number; channels?: 1 | 2 | 3 | 4 };

/** One class of a classification. */
export interface Classification {
  label: string;
  index: number;
  probability: number;
}

/** An RGBA image (an ImageData where the environment has one). */
export type HeatmapImage = ImageData | { data: Uint8ClampedArray; width: number; height: number; colorSpace: 'srgb' };

/** A loaded model with its inference context (one image at a time). */
export declare class Model {
  /** The model's input: images of any size are converted to these channels and resized. */
  readonly inputShape: Readonly<{ channels: number; height: number; width: number }>;
  /** The class labels, in class order. */
  readonly labels: readonly string[];
  /** The kernel family the model runs. */
  readonly kernels: string;
  /** The `top` (default 5) most probable classes of one image, best first. */
  classify(pixels: Pixels, options?: { top?: number }): Classification[];
  /** The logits (dequantized global-average-pool outputs) of one image, bit-exact. */
  logits(pixels: Pixels): Float32Array;
  /** The class heatmap of one image (nin_context_heatmap's pixels, as RGBA); `cls` an index or
   *  a label, the most probable class by default. */
  heatmap(pixels: Pixels, options?: { cls?: number | string }): HeatmapImage;
  /** Releases the model; later calls throw a NinError (STATE). */
  dispose(): void;
}

/** Loads a model from .nin bytes, or a URL (or path, in Node) to read them from. `wasm` says
 *  where nin.wasm is (default: `defaultWasmURL()`). */
export declare function loadModel(
  source: Uint8Array | ArrayBuffer | URL | string,
  options?: { wasm?: Uint8Array | ArrayBuffer | URL | string },
): Promise<Model>;

/** nin-relaxed.wasm beside nin.js where the engine validates relaxed SIMD, else nin.wasm. */
export declare function defaultWasmURL(): URL;

/** Linear memory figures of the shared WebAssembly instance (tests, diagnostics). */
export declare function memoryStats(): Promise<{ memoryBytes: number; heapBytes: number; heapUsed: number }>;
