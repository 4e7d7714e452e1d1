// tools/wasm/peak.mjs [.build-wasm/peak.wasm]: the peak rate of the wasmrelaxed kernels' inner
// step (tools/wasm/peak_wasm.c: relaxed dot pairs, int16 add, widening dot with ones, int32 add;
// independent accumulators, data in L1) in GMAC/s, best of several timed calls per shape. Run by
// Node (`node --experimental-wasm-relaxed-simd tools/wasm/peak.mjs`) or imported by
// tools/wasm/peak.html for Chromium (`measurePeak`); tools/wasm/peak.sh builds the module and
// prints both next to the native step (tools/wasm/peak_native.c) and the classic model's floor.

/** The shapes of peak_wasm.c: export name, pixels x channels per step. */
const SHAPES = [['peak_2x8', 2, 8], ['peak_3x8', 3, 8], ['peak_4x8', 4, 8], ['peak_2x8q3', 2, 8], ['peak_regs', 4, 8]];

/** Each shape's best rate over `tries` calls (GMAC/s), from the module's bytes. */
export async function measurePeak(bytes, tries = 7) {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const e = instance.exports;
  // 60 pairs: 120 quads, a K run of the classic 5x5 layer (5 x 96 channels).
  const pairs = 60, buffer = e.peak_buffer();
  const memory = new Uint8Array(e.memory.buffer, buffer, 65536);
  // Inputs 0..127, weights -64..63: exact for the kernels' int16 sums, as in the real tiles.
  for (let i = 0; i < 65536; i++) memory[i] = i < 4096 ? (i * 37) & 127 : ((i * 11) & 127) - 64;
  const x0 = buffer, x1 = buffer + 1024, w = buffer + 4096;
  const results = {};
  for (const [name, pixels, channels] of SHAPES) {
    const macsPerCall = (reps) => reps * pairs * 8 * pixels * channels;
    let reps = 1000;
    // Calibrate to about 0.1 s a call.
    for (;;) {
      const t0 = performance.now();
      e[name](x0, x1, w, pairs, reps);
      const ms = performance.now() - t0;
      if (ms > 50) { reps = Math.ceil(reps * 100 / ms); break; }
      reps *= 4;
    }
    let best = 0;
    for (let t = 0; t < tries; t++) {
      const t0 = performance.now();
      e[name](x0, x1, w, pairs, reps);
      const seconds = (performance.now() - t0) / 1000;
      best = Math.max(best, macsPerCall(reps) / seconds / 1e9);
    }
    results[name] = best;
  }
  return results;
}

if (typeof process !== 'undefined' && process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const { readFileSync } = await import('node:fs');
  const path = process.argv[2] ?? new URL('../../.build-wasm/peak.wasm', import.meta.url);
  const results = await measurePeak(readFileSync(path));
  console.log(Object.entries(results).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(' '));
}
