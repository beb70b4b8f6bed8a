#!/usr/bin/python3
"""Builds the seed corpora of the libFuzzer harnesses from testdata/ (deterministic).

usage: make_seeds.py TESTDATA OUTDIR    -> OUTDIR/<harness>/<seed files>
"""
import glob
import io
import os
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
    for h in sorted(os.listdir(out)):
        print("%s: %d seeds" % (h, len(os.listdir(os.path.join(out, h)))))


if __name__ == "__main__":
    main()
