// SPDX-License-Identifier: MIT
// node lsb_diff.cjs A.bin B.bin: compares two raw int8 files element by
// element; prints "max M LSB, K of N differ, sum S" and exits 0, or 1 when
// the sizes differ.
'use strict';
const fs = require('fs');
const a = new Int8Array(fs.readFileSync(process.argv[2]));
const b = new Int8Array(fs.readFileSync(process.argv[3]));
if (a.length !== b.length) {
	console.log(`sizes differ: ${a.length} vs ${b.length} bytes`);
	process.exit(1);
}
let max = 0, k = 0, sum = 0;
for (let i = 0; i < a.length; i++) {
	const d = Math.abs(a[i] - b[i]);
	if (d) {
		k++;
		sum += d;
		max = Math.max(max, d);
	}
}
console.log(`max ${max} LSB, ${k} of ${a.length} differ, sum ${sum}`);
