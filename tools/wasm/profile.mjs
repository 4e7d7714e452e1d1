// tools/wasm/profile.mjs MODEL.nin [runs=30] [family=-1]: per-layer median times of a model in
// the kernel-check module (.build-wasm/kernel-check.wasm, or .build-wasm/relaxed/ when Node runs
// with --experimental-wasm-relaxed-simd), one prepared image (nin_bench's bytes), on the family a
// load picks (-1: wasmsimd, or wasmrelaxed) or one by index into the module's runnable families
// (KernelFamilyID order, the reference last: portable, wasmsimd, generic; or wasmsimd,
// wasmrelaxed, generic). For finding where a run's time goes; `make bench-wasm` gives the figures.
import { readFileSync } from 'node:fs';

const [modelPath, runsText = '30', familyText = '-1'] = process.argv.slice(2);
if (!modelPath) {
  console.error('usage: node [--experimental-wasm-relaxed-simd] tools/wasm/profile.mjs MODEL.nin [runs] [family]');
  process.exit(2);
}
const relaxed = process.execArgv.includes('--experimental-wasm-relaxed-simd');
const check = new URL(`../../.build-wasm/${relaxed ? 'relaxed/' : ''}kernel-check.wasm`, import.meta.url);
const { instance } = await WebAssembly.instantiate(readFileSync(check),
  { env: { ninjs_monotonic_ns: () => BigInt(Math.round(performance.now() * 1e6)) } });
const e = instance.exports;
const bytes = readFileSync(modelPath);
const data = e.malloc(bytes.length), out = e.malloc(64 * 8);
new Uint8Array(e.memory.buffer).set(bytes, data);
const layers = e.ninwasm_profile(data, bytes.length, Number(familyText), Number(runsText), out);
if (layers < 0) throw new Error('profile failed');
const ns = new BigUint64Array(e.memory.buffer, out, layers);
let total = 0;
console.log(`${modelPath}: ${relaxed ? 'relaxed' : 'simd'} module, family ${familyText}, median of ${runsText} runs`);
for (let i = 0; i < layers; i++) {
  const ms = Number(ns[i]) / 1e6;
  total += ms;
  console.log(`  ${i}: ${ms.toFixed(3)} ms`);
}
console.log(`  total: ${total.toFixed(3)} ms`);
