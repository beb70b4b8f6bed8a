#!/usr/bin/python3
"""Builds the seed corpora of the libFuzzer harnesses from testdata/ (deterministic).

usage: make_seeds.py TESTDATA OUTDIR    -> OUTDIR/<harness>/<seed files>, OUTDIR/dicts/<harness>.dict

The JSON harness also gets a libFuzzer dictionary: the object keys and short strings that occur at
least twice in testdata's JSON, and every Keras class name kmodel registers (lib/core/keras_classes.cc),
each as a quoted JSON string, so mutations can splice in the words the readers look for.
"""
import collections
import glob
import io
import json
import os
import re
import struct
import sys
import zipfile

MAX_SEED = 64 * 1024


def put(outdir, harness, name, data):
    d = os.path.join(outdir, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name.replace("/", "_")), "wb") as f:
        f.write(data)


def small(path, limit=MAX_SEED):
    return os.path.isfile(path) and os.path.getsize(path) <= limit


def npy(shape, descr, payload):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


def dict_line(token):
    quoted = json.dumps(token)  # the JSON string literal, quotes included
    esc = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "\\x%02x" % ord(c) for c in quoted)
    return '"%s"' % esc


def json_dictionary(td):
    counts = collections.Counter()

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                counts[k] += 1
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and 0 < len(v) <= 32:
            counts[v] += 1

    for p in sorted(glob.glob(os.path.join(td, "**", "*.json"), recursive=True)):
        try:
            with open(p, encoding="utf-8") as f:
                walk(json.load(f))
        except (ValueError, UnicodeDecodeError, RecursionError):  # the regression inputs
            pass
    tokens = {t for t, n in counts.items() if n >= 2 and t.isascii()}
    classes = os.path.join(os.path.dirname(os.path.abspath(td)), "lib", "core", "keras_classes.cc")
    if os.path.isfile(classes):
        tokens.update(re.findall(r'"([A-Z][A-Za-z0-9_]*)"', open(classes).read()))
    return "".join(dict_line(t) + "\n" for t in sorted(tokens))


def main():
    td, out = sys.argv[1], sys.argv[2]
    for p in sorted(glob.glob(os.path.join(td, "**", "*.json"), recursive=True)):
        if small(p):
            put(out, "fuzz_json", os.path.relpath(p, td), open(p, "rb").read())
    for p in sorted(glob.glob(os.path.join(td, "**", "*.keras"), recursive=True)):
        if small(p):
            put(out, "fuzz_keras", os.path.relpath(p, td), open(p, "rb").read())
        try:
            with zipfile.ZipFile(p) as z:
                put(out, "fuzz_json", os.path.relpath(p, td) + ".config.json", z.read("config.json"))
        except (zipfile.BadZipFile, KeyError):
            pass
    for pat in ("*.h5", "*.hdf5"):
        for p in sorted(glob.glob(os.path.join(td, "**", pat), recursive=True)):
            if small(p, 32 * 1024):
                put(out, "fuzz_h5", os.path.relpath(p, td), open(p, "rb").read())
    for idx in sorted(glob.glob(os.path.join(td, "**", "*.index"), recursive=True)):
        prefix = idx[: -len(".index")]
        data = prefix + ".data-00000-of-00001"
        if not os.path.isfile(data) or os.path.getsize(idx) + os.path.getsize(data) > MAX_SEED:
            continue
        ib = open(idx, "rb").read()
        put(out, "fuzz_bundle", os.path.relpath(prefix, td), struct.pack("<I", len(ib)) + ib + open(data, "rb").read())
    for pb in sorted(glob.glob(os.path.join(td, "**", "saved_model.pb"), recursive=True)):
        d = os.path.dirname(pb)
        if small(pb, 128 * 1024):
            put(out, "fuzz_savedmodel", os.path.relpath(d, td) + ".pb", b"\x00" + open(pb, "rb").read())
        meta = os.path.join(d, "keras_metadata.pb")
        if small(meta):
            put(out, "fuzz_savedmodel", os.path.relpath(d, td) + ".meta", b"\x01" + open(meta, "rb").read())
    put(out, "fuzz_npy", "f4_2x3.npy", npy("(2, 3)", "<f4", struct.pack("<6f", *range(6))))
    put(out, "fuzz_npy", "i8_scalar.npy", npy("()", "<i8", struct.pack("<q", 7)))
    put(out, "fuzz_npy", "f2_4.npy", npy("(4,)", "<f2", bytes(8)))
    put(out, "fuzz_npy", "b1_3.npy", npy("(3,)", "|b1", b"\x01\x00\x01"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("x.npy", npy("(1, 2)", "<f8", bytes(16)))
        z.writestr("y.npy", npy("(2,)", "<u1", b"\x01\x02"))
    put(out, "fuzz_npy", "two.npz", buf.getvalue())
    os.makedirs(os.path.join(out, "dicts"), exist_ok=True)
    with open(os.path.join(out, "dicts", "fuzz_json.dict"), "w") as f:
        f.write(json_dictionary(td))
    for h in sorted(os.listdir(out)):
        if h != "dicts":
            print("%s: %d seeds" % (h, len(os.listdir(os.path.join(out, h)))))


if __name__ == "__main__":
    main()
