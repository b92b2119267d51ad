#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The NPU configurations the hardware model is built for, read from the
device trees that describe them: every dts/qnpu-<name>.dts is one built
configuration, named <name>. Nothing else lists them.

  hw_configs.py --vflags DTS
      Verilator parameter flags (-GRows=...) of one device tree.
  hw_configs.py --default NAME --mk OUT --header OUT DTS...
      a make fragment (HW_CONFIGS, HW_VPARAMS_<name>) and a C++ header
      (QNPU_HW_CONFIGS X-macro, names, default) for the given targets.

The parameters are read from the compiled tree (dtc), as libfdt reads them in
the C API: the node compatible with "qnpu,npu-1.0", six required u32
properties and five optional ones (DMA width, queue depth, memory system;
their ranges are qnpu_hw_params_check()'s, docs/codesign.md). The first eight
are Verilog parameters; the memory system is the C API's.
"""
import argparse
import os
import re
import struct
import subprocess
import sys

COMPATIBLE = b"qnpu,npu-1.0"
# device-tree property -> Verilog parameter of qnpu_top (None: the C API's),
# default when absent (None: required; 0 for DMA width = the columns), in
# qnpu_hw_params order
PROPS = [
    ("qnpu,mac-rows", "Rows", None),
    ("qnpu,mac-cols", "Cols", None),
    ("qnpu,abuf-bytes", "AbufBytes", None),
    ("qnpu,wbuf-bytes", "WbufBytes", None),
    ("qnpu,pbuf-bytes", "PbufBytes", None),
    ("qnpu,obuf-bytes", "ObufBytes", None),
    ("qnpu,dma-bytes-per-cycle", "DmaBytes", 0),
    ("qnpu,queue-depth", "QDepth", 16),
    ("qnpu,mem-latency-cycles", None, 0),
    ("qnpu,mem-bytes-per-cycle", None, 0),
    ("qnpu,mem-outstanding", None, 0),
]
FDT_MAGIC = 0xD00DFEED
# qnpu.dtsi, for trees outside dts/ (the test configurations)
DTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dts")
FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP, FDT_END = 1, 2, 3, 4, 9


def die(msg):
    sys.exit(f"hw_configs.py: {msg}")


def compile_dts(path):
    try:
        return subprocess.run(
            ["dtc", "-q", "-I", "dts", "-O", "dtb", "-i", os.path.dirname(path) or ".",
             "-i", DTS_DIR, path],
            check=True, capture_output=True).stdout
    except FileNotFoundError:
        die("dtc not found (make deps installs device-tree-compiler)")
    except subprocess.CalledProcessError as e:
        die(f"{path}: dtc failed:\n{e.stderr.decode(errors='replace')}")


def fdt_nodes(blob):
    """Yield each node's properties as {name: bytes}, in tree order."""
    magic, _, off_struct, off_strings = struct.unpack_from(">4I", blob, 0)
    if magic != FDT_MAGIC:
        raise ValueError("not a flattened device tree")

    def name_at(off):
        end = blob.index(b"\0", off_strings + off)
        return blob[off_strings + off:end].decode()

    stack, pos = [], off_struct
    while True:
        (tok,) = struct.unpack_from(">I", blob, pos)
        pos += 4
        if tok == FDT_BEGIN_NODE:
            pos = (blob.index(b"\0", pos) + 4) & ~3
            stack.append({})
        elif tok == FDT_PROP:
            length, nameoff = struct.unpack_from(">2I", blob, pos)
            pos += 8
            stack[-1][name_at(nameoff)] = blob[pos:pos + length]
            pos = (pos + length + 3) & ~3
        elif tok == FDT_END_NODE:
            yield stack.pop()
        elif tok == FDT_END:
            return
        elif tok != FDT_NOP:
            raise ValueError(f"bad structure token {tok}")


def read_params(path):
    """The qnpu_hw_params values of the NPU node of a dts (the C API checks
    their ranges when it creates the device)."""
    blob = compile_dts(path)
    try:
        nodes = [n for n in fdt_nodes(blob)
                 if COMPATIBLE in n.get("compatible", b"").split(b"\0")]
    except (ValueError, struct.error, IndexError) as e:
        die(f"{path}: {e}")
    if not nodes:
        die(f'{path}: no node compatible with "{COMPATIBLE.decode()}"')
    vals = []
    for prop, _, default in PROPS:
        v = nodes[0].get(prop)
        if v is None and default is not None:
            vals.append(default)
            continue
        if v is None or len(v) != 4:
            die(f'{path}: the NPU node lacks a u32 "{prop}"')
        vals.append(struct.unpack(">I", v)[0])
    if not vals[6]:
        vals[6] = vals[1]
    return vals


def config_name(path):
    m = re.fullmatch(r"qnpu-([A-Za-z0-9_]+)\.dts", os.path.basename(path))
    if not m:
        die(f"{path}: a target is named dts/qnpu-<name>.dts, <name> of [A-Za-z0-9_]")
    return m.group(1)


def vflags(vals):
    return " ".join(f"-G{param}={v}" for (_, param, _), v in zip(PROPS, vals) if param)


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vflags", metavar="DTS")
    ap.add_argument("--default", metavar="NAME")
    ap.add_argument("--mk", metavar="OUT")
    ap.add_argument("--header", metavar="OUT")
    ap.add_argument("dts", nargs="*")
    a = ap.parse_args()

    if a.vflags:
        print(vflags(read_params(a.vflags)))
        return
    if not a.dts or not a.default or not (a.mk or a.header):
        ap.error("need --default, --mk and/or --header, and the target dts files")

    # ordered by size so that configuration indices are stable
    cfgs = sorted(((read_params(p), config_name(p), p) for p in a.dts), key=lambda c: c[0])
    names = [n for _, n, _ in cfgs]
    if len(set(names)) != len(names):
        die("two targets with one name")
    if a.default not in names:
        die(f"default configuration {a.default} is not among the targets ({', '.join(names)})")
    srcs = " ".join(p for _, _, p in cfgs)
    banner = f"generated by scripts/hw_configs.py from {srcs}; do not edit"

    if a.mk:
        mk = [f"# {banner}", f"HW_CONFIGS := {' '.join(names)}"]
        mk += [f"HW_VPARAMS_{n} := {vflags(v)}" for v, n, _ in cfgs]
        write(a.mk, "\n".join(mk) + "\n")
    if a.header:
        h = [f"// {banner}", "#ifndef QNPU_HW_CONFIGS_H", "#define QNPU_HW_CONFIGS_H", ""]
        h += [f'#include "Vqnpu_{n}.h"' for n in names]
        h += ["", "// X(model class, name, the struct qnpu_hw_params values)",
              "#define QNPU_HW_CONFIGS(X) \\"]
        h += [f'\tX(Vqnpu_{n}, "{n}", {", ".join(map(str, v))}) \\' for v, n, _ in cfgs]
        h += ["", f'#define QNPU_HW_CONFIG_NAMES "{", ".join(names)}"',
              f"#define QNPU_HW_DEFAULT_CONFIG {names.index(a.default)}", "", "#endif"]
        write(a.header, "\n".join(h) + "\n")


if __name__ == "__main__":
    main()
