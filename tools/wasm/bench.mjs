// tools/wasm/bench.mjs MODEL.nin [runs=50] [warmup=5]: times web/nin.wasm in Node as
// bench/nin_bench.c times the native library: nin_run_prepared_u8 on one prepared image (batch 1,
// one thread), median and best of `runs` after `warmup`. Prints one line like nin_bench's.
import { readFileSync } from 'node:fs';

const [modelPath, runsText = '50', warmupText = '5'] = process.argv.slice(2);
const runs = Number(runsText), warmup = Number(warmupText);
if (!modelPath || !(runs >= 1) || !(warmup >= 0)) {
  console.error('usage: node tools/wasm/bench.mjs MODEL.nin [runs] [warmup]');
  process.exit(2);
}
const { instance } = await WebAssembly.instantiate(readFileSync(new URL('../../web/nin.wasm', import.meta.url)),
  { env: { ninjs_monotonic_ns: () => BigInt(Math.round(performance.now() * 1e6)) } });
const e = instance.exports;
const bytes = readFileSync(modelPath);
const data = e.malloc(bytes.length), out = e.malloc(16);
new Uint8Array(e.memory.buffer).set(bytes, data);
const check = (status, what) => { if (status !== 0) { console.error(`bench.mjs: ${what} failed (status ${status})`); process.exit(1); } };
check(e.nin_model_load_memory(data, bytes.length, out), 'model load');
const model = new DataView(e.memory.buffer).getUint32(out, true);
check(e.nin_context_create(model, 0, out), 'context');
const context = new DataView(e.memory.buffer).getUint32(out, true);
check(e.nin_model_input_shape(model, out, out + 4, out + 8), 'input shape');
const v = new DataView(e.memory.buffer);
const size = v.getInt32(out, true) * v.getInt32(out + 4, true) * v.getInt32(out + 8, true);
const input = e.malloc(size);
const pixels = new Uint8Array(e.memory.buffer, input, size);
for (let i = 0; i < size; i++) pixels[i] = (i * 2654435761) >>> 24;  // fixed, varied bytes
const times = [];
for (let run = 0; run < warmup + runs; run++) {
  const start = performance.now();
  check(e.nin_run_prepared_u8(context, input, size, 1), 'run');
  if (run >= warmup) times.push(performance.now() - start);
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
console.log(`${modelPath} wasm-node threads=1 batch=1 median_ms=${median.toFixed(3)} best_ms=${sorted[0].toFixed(3)} ` +
  `images_per_s=${(1000 / median).toFixed(1)}`);
