// bench_core.mjs - one timing of nin.wasm, shared by tools/wasm/bench.mjs (Node) and
// tools/wasm/bench.html (Chromium): as bench/nin_bench.c times the native library,
// nin_run_prepared_u8 on one prepared image (batch 1, one thread; the same input bytes),
// median and best of `runs` after `warmup`.

/** Times `modelBytes` on the nin.wasm `wasmBytes`; returns {median, best} in milliseconds. */
export async function timeRuns(wasmBytes, modelBytes, runs, warmup) {
  const { instance } = await WebAssembly.instantiate(wasmBytes,
    { env: { ninjs_monotonic_ns: () => BigInt(Math.round(performance.now() * 1e6)) } });
  const e = instance.exports;
  const check = (status, what) => { if (status !== 0) throw new Error(`${what} failed (status ${status})`); };
  const data = e.malloc(modelBytes.length), out = e.malloc(16);
  new Uint8Array(e.memory.buffer).set(modelBytes, data);
  check(e.nin_model_load_memory(data, modelBytes.length, out), 'model load');
  const model = new DataView(e.memory.buffer).getUint32(out, true);
  check(e.nin_context_create(model, 0, out), 'context');
  const context = new DataView(e.memory.buffer).getUint32(out, true);
  check(e.nin_model_input_shape(model, out, out + 4, out + 8), 'input shape');
  const v = new DataView(e.memory.buffer);
  const size = v.getInt32(out, true) * v.getInt32(out + 4, true) * v.getInt32(out + 8, true);
  const input = e.malloc(size);
  const pixels = new Uint8Array(e.memory.buffer, input, size);
  for (let i = 0; i < size; i++) pixels[i] = (i * 2654435761) >>> 24;  // nin_bench's input bytes
  const times = [];
  for (let run = 0; run < warmup + runs; run++) {
    const start = performance.now();
    check(e.nin_run_prepared_u8(context, input, size, 1), 'run');
    if (run >= warmup) times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], best: times[0] };
}
