#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Quantize a raw float32 file to int8 as MODELS/float/README.md's metrics
do: q = clamp(round_half_away(x / scale) + zp, -128, 127), the division in
float32.   f32_to_int8.py IN.f32.bin SCALE ZP OUT.int8.bin [N_FIRST_VALUES]"""
import array
import math
import struct
import sys


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def main():
    src, scale, zp, dst = sys.argv[1], f32(float(sys.argv[2])), int(sys.argv[3]), sys.argv[4]
    a = array.array('f')
    with open(src, 'rb') as f:
        a.frombytes(f.read())
    if len(sys.argv) > 5:
        a = a[:int(sys.argv[5])]
    out = bytearray(len(a))
    for i, x in enumerate(a):
        r = f32(x / scale)          # float32 / float32, rounded to float32
        q = math.floor(abs(r) + 0.5) * (1 if r >= 0 else -1) + zp
        out[i] = max(-128, min(127, q)) & 0xff
    with open(dst, 'wb') as f:
        f.write(out)


main()
