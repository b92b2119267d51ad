#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compare qnpu's float32 outputs with TFLite's, N outputs stacked.

  float_compare.py OUT GOLDEN DEPTH REL_TOL [--top1]

Prints the max abs error, the max error relative to the golden output
range (max - min over all elements of all outputs), the SQNR in dB
(sum gold^2 / sum (out - gold)^2) and, with --top1, the
top-1 agreement (argmax over each output of DEPTH, the first index wins
ties). Fails when the relative error exceeds REL_TOL or a top-1 differs.
"""
import math
import sys
from array import array


def load(path):
    a = array('f')
    with open(path, 'rb') as f:
        a.frombytes(f.read())
    if sys.byteorder != 'little':
        a.byteswap()
    return a


def argmax(v):
    best = 0
    for i in range(1, len(v)):
        if v[i] > v[best]:
            best = i
    return best


def main():
    out, gold = load(sys.argv[1]), load(sys.argv[2])
    depth, tol = int(sys.argv[3]), float(sys.argv[4])
    top1 = '--top1' in sys.argv[5:]
    if len(out) != len(gold) or len(gold) % depth:
        print(f"size mismatch: {len(out)} vs {len(gold)} floats")
        return 1
    rng = max(gold) - min(gold)
    err = max(abs(a - b) for a, b in zip(out, gold))
    rel = err / rng if rng > 0 else err
    sig = sum(b * b for b in gold)
    noise = sum((a - b) * (a - b) for a, b in zip(out, gold))
    sqnr = 10 * math.log10(sig / noise) if noise > 0 else math.inf
    n = len(gold) // depth
    msg = (f"{n} outputs, max abs error {err:.3g}, max error / output range "
           f"{rel:.3g} (bound {tol:g}), SQNR {sqnr:.1f} dB")
    bad = not rel <= tol
    if top1:
        agree = sum(argmax(out[i * depth:(i + 1) * depth]) ==
                    argmax(gold[i * depth:(i + 1) * depth]) for i in range(n))
        msg += f", top-1 {agree}/{n}"
        bad = bad or agree != n
    print(msg)
    return 1 if bad else 0


sys.exit(main())
