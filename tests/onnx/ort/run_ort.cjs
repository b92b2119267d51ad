// node run_ort.cjs NODE_MODULES MODEL.onnx IN.bin DTYPE DIMS OUT.bin [LEVEL]
// Runs every sample of IN.bin (DTYPE elements of shape DIMS each, back to
// back) through ONNX Runtime (CPU EP, one thread, sequential; LEVEL a
// graphOptimizationLevel, default: ORT's default) and writes output 0 of
// each, back to back, to OUT.bin.
const path = require('path');
const fs = require('fs');
const [mods, model, inp, dtype, dims, out, level] = process.argv.slice(2);
const ort = require(path.join(mods, 'onnxruntime-node'));
const TA = {float32: Float32Array, int8: Int8Array, uint8: Uint8Array};
(async () => {
  const so = {intraOpNumThreads: 1, interOpNumThreads: 1,
    executionMode: 'sequential', logSeverityLevel: 3};
  if (level) so.graphOptimizationLevel = level;
  const s = await ort.InferenceSession.create(model, so);
  const b = fs.readFileSync(inp);
  const x = new TA[dtype](b.buffer, b.byteOffset, b.length / TA[dtype].BYTES_PER_ELEMENT);
  const d = dims.split(',').map(Number);
  const per = d.reduce((a, c) => a * c, 1);
  if (!per || x.length % per) throw new Error(`input has ${x.length} elements, not a multiple of ${per}`);
  const bufs = [];
  for (let i = 0; i < x.length / per; i++) {
    const r = await s.run({[s.inputNames[0]]: new ort.Tensor(dtype, x.slice(i * per, (i + 1) * per), d)});
    const t = r[s.outputNames[0]];
    bufs.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  fs.writeFileSync(out, Buffer.concat(bufs));
  console.log(`ort ${ort.env.versions.common}: ${bufs.length} runs of ${path.basename(model)}`);
})().catch(e => { console.error(e.message || e); process.exit(1); });
