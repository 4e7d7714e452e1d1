// tools/wasm/bench.mjs MODEL.nin [runs=50] [warmup=5]: times web/nin.wasm (or the module under
// web/ that NIN_WASM names: nin-relaxed.wasm needs node --experimental-wasm-relaxed-simd) in Node
// (bench_core.mjs) and prints one line like bench/nin_bench.c's.
import { readFileSync } from 'node:fs';
import { timeRuns } from './bench_core.mjs';

const [modelPath, runsText = '50', warmupText = '5'] = process.argv.slice(2);
const runs = Number(runsText), warmup = Number(warmupText);
if (!modelPath || !(runs >= 1) || !(warmup >= 0)) {
  console.error('usage: node tools/wasm/bench.mjs MODEL.nin [runs] [warmup]');
  process.exit(2);
}
const { median, best } = await timeRuns(readFileSync(new URL(`../../web/${process.env.NIN_WASM ?? 'nin.wasm'}`, import.meta.url)), readFileSync(modelPath), runs, warmup);
console.log(`${modelPath} wasm-node threads=1 batch=1 median_ms=${median.toFixed(3)} best_ms=${best.toFixed(3)} ` +
  `images_per_s=${(1000 / median).toFixed(1)}`);
