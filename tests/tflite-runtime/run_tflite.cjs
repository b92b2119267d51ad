// SPDX-License-Identifier: MIT
// Runs a .tflite model in the real TFLite runtime: the C++ interpreter
// (with its default XNNPACK delegate) compiled to WebAssembly, as npm
// @tensorflow/tfjs-tflite ships it. The package's own loader expects a
// browser, so this loads its Emscripten module directly:
// tflite_web_api_cc.wasm (no SIMD, no threads), one thread.
//
//   node run_tflite.cjs NODE_MODULES MODEL.tflite OUT_DIR IN.bin...
//
// IN.bin i feeds model input i, raw bytes in the tensor's own type. A file
// may hold N inputs back to back (N * tensor size): then every input file
// must hold the same N, the model runs N times and OUT_DIR/out<j>.bin holds
// the N results of output j back to back. Prints one line per output:
// "out<j>.bin TYPE SHAPE xN".
'use strict';
const fs = require('fs');
const path = require('path');

function die(msg) {
	process.stderr.write(`run_tflite: ${msg}\n`);
	process.exit(1);
}

async function main() {
	const [nodeModules, modelPath, outDir, ...inPaths] = process.argv.slice(2);
	if (!outDir)
		die('usage: run_tflite.cjs NODE_MODULES MODEL.tflite OUT_DIR IN.bin...');
	const wasmDir = path.join(path.resolve(nodeModules), '@tensorflow/tfjs-tflite/wasm');
	const factory = require(path.join(wasmDir, 'tflite_web_api_cc.js'));
	// Emscripten would fetch() the .wasm, which node cannot do from a path.
	const M = await factory({
		wasmBinary: fs.readFileSync(path.join(wasmDir, 'tflite_web_api_cc.wasm')),
		print: (s) => process.stderr.write(s + '\n'),
		printErr: (s) => process.stderr.write(s + '\n'),
	});
	const model = fs.readFileSync(modelPath);
	const ptr = M._malloc(model.length);
	M.HEAPU8.set(model, ptr);
	const st = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr,
		model.length, { numThreads: 1, enableProfiling: false,
				maxProfilingBufferEntries: 1024 });
	if (!st.ok())
		die(`${modelPath}: TFLite refused the model: ${st.errorMessage()}`);
	const runner = st.value();
	const list = (v) => {
		const a = [];
		for (let i = 0; i < v.size(); i++)
			a.push(v.get(i));
		return a;
	};
	const inputs = list(runner.GetInputs());
	const outputs = list(runner.GetOutputs());
	if (inPaths.length !== inputs.length)
		die(`${modelPath} has ${inputs.length} inputs, ${inPaths.length} files given`);
	let n = -1;
	const inData = inPaths.map((p, i) => {
		const dst = inputs[i].data();
		const b = fs.readFileSync(p);
		const sz = dst.byteLength;
		if (b.length === 0 || b.length % sz)
			die(`${p}: ${b.length} bytes is not a multiple of input ${i} (${inputs[i].dataType} ${inputs[i].shape}, ${sz} bytes)`);
		if (n >= 0 && b.length / sz !== n)
			die(`${p}: holds ${b.length / sz} inputs, the first file ${n}`);
		n = b.length / sz;
		return b;
	});
	const outBufs = outputs.map((t) => Buffer.alloc(t.data().byteLength * n));
	for (let k = 0; k < n; k++) {
		inputs.forEach((t, i) => {
			// data() is a view of the wasm heap: take it afresh each time.
			const dst = t.data();
			const u8 = new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength);
			u8.set(inData[i].subarray(k * u8.length, (k + 1) * u8.length));
		});
		if (!runner.Infer())
			die(`${modelPath}: inference ${k} failed`);
		outputs.forEach((t, j) => {
			const src = t.data();
			const u8 = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
			outBufs[j].set(u8, k * u8.length);
		});
	}
	fs.mkdirSync(outDir, { recursive: true });
	outputs.forEach((t, j) => {
		fs.writeFileSync(path.join(outDir, `out${j}.bin`), outBufs[j]);
		console.log(`out${j}.bin ${t.dataType} ${t.shape} x${n}`);
	});
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
