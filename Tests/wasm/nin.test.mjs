// Tests/wasm/nin.test.mjs - web/nin.js and web/nin.wasm in Node (`node --test`, run by
// `make test-wasm`): on the 10 example images, with the pixels of nin's own PNG decoder as RGBA,
// logits equal to the native build's bit for bit, the same top-5 and the same heatmap pixels, for
// both shipped models; every bad input gives a NinError and leaves the instance working (mutated
// models included); linear
// memory does not grow over 1,000 runs; every kernel family of nin.wasm (wasmsimd, portable) equals
// the reference kernels on random convolutions (.build-wasm/kernel-check.wasm). The native side
// comes from tools/wasm/make_fixtures.py (NIN_WASM_FIXTURES names its output). Where the engine
// has relaxed SIMD (make test-wasm runs this file a second time with node
// --experimental-wasm-relaxed-simd), all of it runs on nin-relaxed.wasm instead, whose kernel
// check (.build-wasm/relaxed/kernel-check.wasm) has the wasmrelaxed and wasmsimd families.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defaultWasmURL, loadModel, memoryStats, NinError, Status } from '../../web/nin.js';

const root = new URL('../../', import.meta.url);
const fixtures = JSON.parse(readFileSync(process.env.NIN_WASM_FIXTURES ?? new URL('.build/wasm/fixtures.json', root), 'utf8'));
const images = fixtures.images.map((image) => ({
  name: image.name,
  pixels: { data: new Uint8Array(Buffer.from(image.rgba, 'base64')), width: image.width, height: image.height, channels: 4 },
}));
const modelURL = (file) => new URL(`models/${file}`, root);
// Which module nin.js loads here: nin-relaxed.wasm where the engine validates relaxed SIMD.
const relaxed = defaultWasmURL().pathname.endsWith('/nin-relaxed.wasm');

test(`every kernel family of the ${relaxed ? 'relaxed ' : ''}wasm build equals the reference kernels (kernel check)`, async () => {
  const check = relaxed ? '.build-wasm/relaxed/kernel-check.wasm' : '.build-wasm/kernel-check.wasm';
  const { instance } = await WebAssembly.instantiate(readFileSync(new URL(check, root)),
    { env: { ninjs_monotonic_ns: () => 0n } });
  // wasmsimd and portable; wasmrelaxed and wasmsimd
  assert.equal(instance.exports.ninwasm_kernel_check_families(), 2);
  assert.equal(instance.exports.ninwasm_kernel_check(300, 2026), 0);
});

test(`models load with the ${relaxed ? 'wasmrelaxed' : 'wasmsimd'} family`, async () => {
  const model = await loadModel(modelURL('fashion_classic.nin'));
  assert.equal(model.kernels, relaxed ? 'wasmrelaxed' : 'wasmsimd');
  model.dispose();
});

for (const expected of fixtures.models) {
  test(`${expected.file}: logits, top-5 and heatmap equal the native build's on the example images`, async () => {
    const model = await loadModel(modelURL(expected.file));
    assert.deepEqual(model.labels, expected.labels);
    images.forEach(({ name, pixels }, i) => {
      const want = expected.results[i];
      const bits = Array.from(new Uint32Array(model.logits(pixels).buffer));
      assert.deepEqual(bits, want.logitBits, `${name}: logits`);
      assert.deepEqual(model.classify(pixels, { top: 5 }).map((c) => c.index), want.top5, `${name}: top-5`);
      const heatmap = model.heatmap(pixels);
      assert.equal(heatmap.width, want.heatmap.width);
      assert.equal(heatmap.height, want.heatmap.height);
      const rgb = Buffer.alloc(heatmap.width * heatmap.height * 3);
      for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) rgb.set(heatmap.data.subarray(p, p + 3), q);
      assert.equal(createHash('sha256').update(rgb).digest('hex'), want.heatmap.sha256, `${name}: heatmap`);
    });
    model.dispose();
  });
}

/** Asserts that `call` throws a NinError with `status` whose message matches `message`. */
async function assertNinError(call, status, message) {
  await assert.rejects(async () => call(), (error) => {
    assert.ok(error instanceof NinError, `expected a NinError, got ${error}`);
    assert.equal(error.status, status, error.message);
    assert.match(error.message, message);
    return true;
  });
}

test('bad inputs give a NinError and the instance keeps working', async () => {
  const bytes = readFileSync(modelURL('fashion_classic.nin'));
  const model = await loadModel(bytes);
  const { pixels } = images[0];
  const expected = Array.from(model.logits(pixels));
  const good = () => assert.deepEqual(Array.from(model.logits(pixels)), expected);

  await assertNinError(() => loadModel(new Uint8Array(0)), Status.INVALID_ARGUMENT, /0 bytes/);
  await assertNinError(() => loadModel(new Uint8Array(1000).fill(7)), Status.BAD_MODEL, /./);
  await assertNinError(() => loadModel(bytes.subarray(0, bytes.length >> 1)), Status.BAD_MODEL, /./);
  const flipped = new Uint8Array(bytes); flipped[flipped.length >> 1] ^= 0x40;
  await assertNinError(() => loadModel(flipped), Status.BAD_MODEL, /./);
  await assertNinError(() => loadModel(42), Status.INVALID_ARGUMENT, /Uint8Array/);
  good();
  const cases = [
    [{ ...pixels, width: 0 }, /width is 0/],
    [{ ...pixels, height: -3 }, /height is -3/],
    [{ ...pixels, data: pixels.data.subarray(1) }, /has \d+ bytes but/],
    [{ ...pixels, channels: 5 }, /channels is 5/],
    [{ ...pixels, data: [1, 2, 3] }, /Uint8Array/],
    [null, /ImageData/],
  ];
  for (const [bad, message] of cases) {
    await assertNinError(() => model.classify(bad), Status.INVALID_ARGUMENT, message);
    await assertNinError(() => model.logits(bad), Status.INVALID_ARGUMENT, message);
    await assertNinError(() => model.heatmap(bad), Status.INVALID_ARGUMENT, message);
    good();
  }
  await assertNinError(() => model.classify(pixels, { top: 0 }), Status.INVALID_ARGUMENT, /top is 0/);
  await assertNinError(() => model.heatmap(pixels, { cls: 99 }), Status.INVALID_ARGUMENT, /cls is 99/);
  await assertNinError(() => model.heatmap(pixels, { cls: 'Pizza' }), Status.INVALID_ARGUMENT, /Pizza/);
  good();
  const other = await loadModel(bytes);
  model.dispose();
  model.dispose();
  await assertNinError(() => model.classify(pixels), Status.STATE, /disposed/);
  assert.deepEqual(Array.from(other.logits(pixels)), expected);
  other.dispose();
});

/** CRC-32 (IEEE 802.3) of `bytes`, as the .nin header stores it (docs/FORMAT.md). */
function crc32(bytes) {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xEDB88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

test('mutated models with a valid checksum run or give a NinError, never a trap (wasm32 has a 32-bit Int)', async () => {
  const bytes = readFileSync(modelURL('fashion_small.nin'));
  const pixels = { data: new Uint8Array(28 * 28).fill(9), width: 28, height: 28, channels: 1 };
  let seed = 777;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const extremes = [0, 1, 0x7f, 0x80, 0xff];
  let refused = 0;
  for (let trial = 0; trial < 300; trial++) {
    const mutated = new Uint8Array(bytes);
    for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
      const at = 64 + Math.floor(random() * Math.min(2000, mutated.length - 64));  // the header and layer table
      mutated[at] = random() < 0.6 ? extremes[Math.floor(random() * extremes.length)] : Math.floor(random() * 256);
    }
    new DataView(mutated.buffer).setUint32(24, crc32(mutated.subarray(64)), true);
    try {
      const model = await loadModel(mutated);
      model.classify(pixels);
      model.dispose();
    } catch (error) {
      assert.ok(error instanceof NinError, `trial ${trial}: ${error}`);
      refused++;
    }
  }
  assert.ok(refused > 0 && refused < 300, `${refused} of 300 refused`);
});

test('linear memory does not grow over 1,000 runs', async () => {
  const model = await loadModel(modelURL('fashion_small.nin'));  // (1,000 runs of the classic one take minutes)
  for (const { pixels } of images) model.classify(pixels);
  const before = await memoryStats();
  for (let run = 0; run < 1000; run++) model.classify(images[run % images.length].pixels, { top: 3 });
  const after = await memoryStats();
  assert.deepEqual(after, before);
  model.dispose();
});
