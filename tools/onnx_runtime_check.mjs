#!/usr/bin/env node
// Runs every model export_onnx wrote (tests/nn/onnx_export_test.cpp) in ONNX Runtime's CPU
// build and compares its output with descent's.
//   node tools/onnx_runtime_check.mjs <dir>
// <dir> holds, per model, <name>.json naming the .onnx file, an input and descent's output for
// it (raw little-endian float32, float64 or int64, with dtype and shape). The input's batch size
// differs from the example's the model was exported with, so the dynamic batch is exercised.
// onnxruntime-node is the version pinned in tools/onnx/package.json, installed by
// `npm ci --prefix tools/onnx` (tools/setup-debian.sh). Exits 1 naming every model that differs
// or fails to load or run.
//
// A manifest may say "onnxruntime_lacks": "Conv(11)": ONNX Runtime's CPU build has no kernel for
// that op and type (float64 Conv, AveragePool, Erf), so the run must fail naming it; if it runs,
// its output is compared as any other.
//
// Tolerance, elementwise: |ort − descent| ≤ rtol·|descent| + atol·max(1, max|descent|).
// float32: rtol = atol = 1e-5. Both sides round each product and sum to float32 (ε = 6e-8) but
// in other orders (oneDNN or Eigen vs MLAS, blocked sums, exp/erf/tanh approximations), and a
// layer's error grows with its reduction length (≤ a few hundred terms here) and passes through
// several layers: differences of tens of ε relative to the output's scale are expected (the
// models here stay within a few percent of the tolerance), and 1e-5 is ~170 ε. A wrong layout,
// gate order, padding, scale or statistic gives errors of the order of the values themselves.
// float64: rtol = atol = 1e-12 (ε = 1.1e-16: the same argument, ~10⁴ ε).
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(new URL('./onnx/package.json', import.meta.url));
let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  console.error(`onnx_runtime_check: cannot load onnxruntime-node (${e.message}); ` +
                'install it with: npm ci --prefix tools/onnx');
  process.exit(1);
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node tools/onnx_runtime_check.mjs <dir>');
  process.exit(2);
}

const TOLERANCE = { float32: { rtol: 1e-5, atol: 1e-5 }, float64: { rtol: 1e-12, atol: 1e-12 } };
const ARRAYS = { float32: Float32Array, float64: Float64Array, int64: BigInt64Array };
const ORT_TYPES = { float32: 'float32', float64: 'float64', int64: 'int64' };

function load(entry) {
  const bytes = readFileSync(join(dir, entry.file));
  const Array = ARRAYS[entry.dtype];
  if (!Array) throw new Error(`unknown dtype ${entry.dtype}`);
  const copy = new Uint8Array(bytes);  // aligned
  const data = new Array(copy.buffer, 0, copy.byteLength / Array.BYTES_PER_ELEMENT);
  const n = entry.shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`${entry.file}: ${data.length} values, shape needs ${n}`);
  return data;
}

const manifests = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
if (manifests.length === 0) {
  console.error(`onnx_runtime_check: no <name>.json manifests in ${dir}`);
  process.exit(1);
}
const failed = [];
for (const file of manifests) {
  const m = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  try {
    let session;
    try {
      session = await ort.InferenceSession.create(join(dir, m.model),
                                                  { executionProviders: ['cpu'] });
    } catch (e) {
      const lacks = m.onnxruntime_lacks;
      if (lacks && e.message.includes(`Could not find an implementation for ${lacks}`)) {
        console.log(`ok   ${m.name}: onnxruntime has no ${lacks} kernel, as expected`);
        continue;
      }
      throw e;
    }
    const input = new ort.Tensor(ORT_TYPES[m.input.dtype], load(m.input), m.input.shape);
    const results = await session.run({ [session.inputNames[0]]: input });
    const out = results[session.outputNames[0]];
    const expected = load(m.output);
    if (JSON.stringify(out.dims) !== JSON.stringify(m.output.shape)) {
      throw new Error(`shape [${out.dims}], descent [${m.output.shape}]`);
    }
    const { rtol, atol } = TOLERANCE[m.output.dtype];
    let scale = 1;
    for (const v of expected) scale = Math.max(scale, Math.abs(v));
    let worst = 0, at = -1, bad = 0;
    for (let k = 0; k < expected.length; ++k) {
      const a = Number(out.data[k]), b = Number(expected[k]);
      const same = (Number.isNaN(a) && Number.isNaN(b)) || a === b;
      const err = same ? 0 : Math.abs(a - b) / (rtol * Math.abs(b) + atol * scale);
      if (!(err <= 1)) ++bad;
      if (!(err <= worst)) { worst = err; at = k; }
    }
    const summary = `${expected.length} values, worst at ${(worst * 100).toFixed(1)}% of tolerance`;
    if (bad > 0) {
      throw new Error(`${bad} values differ; element ${at}: onnxruntime ${out.data[at]}, ` +
                      `descent ${expected[at]} (${summary})`);
    }
    console.log(`ok   ${m.name}: input [${m.input.shape}] ${m.input.dtype}, ${summary}`);
  } catch (e) {
    failed.push(m.name);
    console.log(`FAIL ${m.name}: ${e.message}`);
  }
}
console.log(`onnxruntime-node ${ort.env.versions?.node ?? ''}: ` +
            `${manifests.length - failed.length} of ${manifests.length} models match`);
if (failed.length > 0) {
  console.error(`onnx_runtime_check: differing models: ${failed.join(', ')}`);
  process.exit(1);
}
