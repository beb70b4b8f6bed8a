#!/usr/bin/python3
"""Malformed-input suite for kmodel (issue 9).

For real fixtures under testdata/ this generates hostile variants -- truncations at many offsets, bit
flips, zeroed regions, absurd declared sizes and shapes, wrong dtypes, Git LFS pointers, empty files,
directories where files are expected -- and runs `kmodel inspect`, `kmodel load` and `kmodel convert`
on each (npy inputs go through `kmodel predict -i`). Every run must:
  - end without a signal, sanitizer report or timeout (hang),
  - exit 0 (the mutation happened to be harmless) or with a documented failure code: 3, 4, 5
    (and 1 for `load`, which reports problems with exit 1),
  - on failure, print exactly one line on stderr, "kmodel: error: ...",
  - on failure, leave no output file and no temp files (.<name>.kmodel-tmp-*),
  - stay within a fixed memory bound (ulimit -v, unless the binary is built with ASan).
Offsets and flips are sampled deterministically (seeded by fixture name), so failures reproduce.

usage: malform.py --kmodel BIN --testdata DIR --work DIR [--per-fixture N] [--keep-failures DIR]
"""
import argparse
import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys
import time

TIMEOUT = 30
MEM_KB = 2 * 1024 * 1024
CONVERT_TARGETS = ["h5", "json", "checkpoint", "keras", "savedmodel"]

# (kind, relative path, which file of it to mutate). kind: file | ckpt | savedmodel | npy
FIXTURES = [
    ("file", "h5/fml_keras_3layer_h5__keras_3layer.h5", None),
    ("file", "h5/dl4j_simple_lstm_tf_keras_2_io__simple_lstm_tf_keras_2_model.h5", None),
    ("file", "h5/hls4ml_conv2d_1layer_io__conv2d_1layer_weights.h5", None),
    ("file", "h5/dl4j_sequential_lambda__sequential_lambda.h5", None),
    ("file", "json/dl4j_simple_lstm_tf_keras_2_io__simple_lstm_tf_keras_2_config.json", None),
    ("file", "json/fml_qkeras_3layer_json_weights__qkeras_3layer.json", None),
    ("file", "keras_v3/qkeras_v3_3layer.keras", None),
    ("file", "keras_v3/nested_container.keras", None),
    ("ckpt", "checkpoint/charity_tf2/weights.100.hd5f", ".index"),
    ("ckpt", "checkpoint/charity_tf2/weights.100.hd5f", ".data-00000-of-00001"),
    ("savedmodel", "savedmodel/coffee_roast_savedmodel_keras", "saved_model.pb"),
    ("savedmodel", "savedmodel/coffee_roast_savedmodel_keras", "keras_metadata.pb"),
    ("savedmodel", "savedmodel/coffee_roast_savedmodel_keras", "variables/variables.index"),
    ("npy", None, None),
]

LFS = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 98765\n"


def is_asan(binary):
    try:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
        if "libasan" in out:
            return True
        with open(binary, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def mutations(data, rng, n):
    """Yields (label, bytes) variants of `data`: truncations, bit flips, zeroed regions."""
    size = len(data)
    cuts = {0, 1, 8, size // 2, max(size - 1, 0)}
    while len(cuts) < 4 + n:
        # Mostly in the first 4 KiB where headers and superblocks live.
        cuts.add(rng.randrange(0, min(size, 4096)) if rng.random() < 0.6 else rng.randrange(0, max(size, 1)))
    for c in sorted(cuts):
        if c < size:
            yield "trunc@%d" % c, data[:c]
    for i in range(n + 2):
        b = bytearray(data)
        offs = []
        for _ in range(rng.randint(1, 4)):
            off = rng.randrange(0, min(size, 4096)) if rng.random() < 0.7 else rng.randrange(0, size)
            b[off] ^= 1 << rng.randrange(8)
            offs.append(off)
        yield "flip@" + ",".join(map(str, offs)), bytes(b)
    for i in range(max(2, n // 2)):
        ln = rng.choice([16, 64, 512])
        off = rng.randrange(0, max(size - ln, 1))
        b = bytearray(data)
        b[off:off + ln] = bytes(min(ln, size - off))
        yield "zero@%d+%d" % (off, ln), bytes(b)
    # Absurd sizes: 0xff runs where lengths and offsets usually are.
    off = rng.randrange(0, max(min(size, 1024) - 8, 1))
    b = bytearray(data)
    b[off:off + 8] = b"\xff" * min(8, size - off)
    yield "ff8@%d" % off, bytes(b)


def crafted_files(d):
    """Hand-made hostile artifacts (absurd shapes, wrong dtypes), via h5py/numpy when available."""
    out = []
    try:
        import h5py
        import numpy as np
    except ImportError:
        return out
    cfg = ('{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "Dense", '
           '"config": {"name": "dense", "units": %s, "batch_input_shape": [null, %s], "dtype": "float32"}}]}}')

    def keras_h5(path, units, inp, make_weights):
        with h5py.File(path, "w") as f:
            f.attrs["keras_version"] = "2.4.0"
            f.attrs["backend"] = "tensorflow"
            f.attrs["model_config"] = cfg % (units, inp)
            g = f.create_group("model_weights")
            g.attrs["layer_names"] = np.array([b"dense"])
            lg = g.create_group("dense")
            names = make_weights(lg.create_group("dense"))
            lg.attrs["weight_names"] = np.array([n.encode() for n in names])

    def huge_chunked(g):  # declared 2^40 floats, no data written: file is tiny
        g.create_dataset("kernel:0", shape=(1 << 20, 1 << 20), dtype="f4", chunks=(16, 16))
        g.create_dataset("bias:0", shape=(1 << 20,), dtype="f4", chunks=(16,))
        return ["dense/kernel:0", "dense/bias:0"]

    def string_weights(g):
        g.create_dataset("kernel:0", data=np.array([b"a", b"b"]))
        g.create_dataset("bias:0", data=np.array([b"c"]))
        return ["dense/kernel:0", "dense/bias:0"]

    def compound_weights(g):
        dt = np.dtype([("a", "f4"), ("b", "i8")])
        g.create_dataset("kernel:0", data=np.zeros((3, 2), dtype=dt))
        g.create_dataset("bias:0", data=np.zeros((2,), dtype=dt))
        return ["dense/kernel:0", "dense/bias:0"]

    def missing_weights(g):
        return ["dense/kernel:0", "dense/bias:0"]

    for name, units, inp, fn in [("huge_declared.h5", "1048576", "1048576", huge_chunked),
                                  ("string_weights.h5", "2", "3", string_weights),
                                  ("compound_weights.h5", "2", "3", compound_weights),
                                  ("missing_weights.h5", "2", "3", missing_weights)]:
        p = os.path.join(d, name)
        keras_h5(p, units, inp, fn)
        out.append(("crafted:" + name, p))
    # JSON with absurd shapes and units.
    for name, units, inp in [("absurd_units.json", "4611686018427387904", "3"),
                             ("absurd_shape.json", "4", "9223372036854775807"),
                             ("negative_shape.json", "-5", "-7"),
                             ("float_units.json", "1e300", "1e300")]:
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(cfg % (units, inp))
        out.append(("crafted:" + name, p))
    deep = os.path.join(d, "deep_nesting.json")
    with open(deep, "w") as f:
        f.write('{"class_name": "Sequential", "config": ' + "[" * 100000 + "]" * 100000 + "}")
    out.append(("crafted:deep_nesting.json", deep))
    return out


def npy_bytes(shape_text, descr="<f4", payload=b""):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    header = header + " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


class Runner:
    def __init__(self, kmodel, work, keep):
        self.kmodel = kmodel
        self.work = work
        self.keep = keep
        self.asan = is_asan(kmodel)
        self.failures = []
        self.runs = 0
        self.codes = {}

    def run(self, label, args, out_path=None, allowed=(0, 3, 4, 5)):
        self.runs += 1
        limit = "" if self.asan else "ulimit -v %d; " % MEM_KB
        if out_path:
            outdir = os.path.dirname(out_path)
            shutil.rmtree(outdir, ignore_errors=True)
            os.makedirs(outdir)
        cmd = ["bash", "-c", limit + 'exec "$@"', "bash", self.kmodel] + args
        t0 = time.time()
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail(label, args, "hang: no exit within %d s" % TIMEOUT, b"")
            return
        rc = p.returncode
        self.codes[rc] = self.codes.get(rc, 0) + 1
        err = p.stderr
        lines = [l for l in err.decode("utf-8", "replace").split("\n") if l != ""]
        if rc < 0 or rc >= 128:
            self.fail(label, args, "crashed: rc=%d" % rc, err)
            return
        if b"AddressSanitizer" in err or b"runtime error:" in err or b"LeakSanitizer" in err:
            self.fail(label, args, "sanitizer report", err)
            return
        if rc not in allowed:
            self.fail(label, args, "exit %d not among %s" % (rc, allowed), err)
            return
        if rc != 0:
            is_load_check = rc == 1 and args[0] == "load"
            if not is_load_check and (len(lines) != 1 or not lines[0].startswith("kmodel: error: ")):
                self.fail(label, args, "want exactly one 'kmodel: error:' line on stderr, got %d" % len(lines), err)
            if out_path:
                left = os.listdir(os.path.dirname(out_path))
                if left:
                    self.fail(label, args, "output left behind after failure: %s" % left, err)

    def fail(self, label, args, why, err):
        msg = "FAIL [%s] kmodel %s: %s\n    %s" % (label, " ".join(args), why,
                                                 err.decode("utf-8", "replace").strip().replace("\n", "\n    ")[:1500])
        print(msg, flush=True)
        self.failures.append(msg)
        if self.keep:
            os.makedirs(self.keep, exist_ok=True)
            tag = hashlib.sha1(label.encode()).hexdigest()[:10]
            for a in args:
                if a.startswith(self.work) and os.path.exists(a) and "/out" not in a:
                    dst = os.path.join(self.keep, tag + "_" + os.path.basename(a.rstrip("/")))
                    if os.path.isdir(a):
                        shutil.copytree(a, dst, dirs_exist_ok=True)
                    elif os.path.isfile(a):
                        shutil.copy(a, dst)

    def model_cases(self, label, path, n):
        target = CONVERT_TARGETS[n % len(CONVERT_TARGETS)]
        out = os.path.join(self.work, "out", "dst." + {"checkpoint": "ckpt", "savedmodel": "sm"}.get(target, target))
        self.run(label, ["inspect", path])
        self.run(label, ["load", path], allowed=(0, 1, 3, 4, 5))
        self.run(label, ["convert", path, out, "--to", target], out_path=out)


def copy_tree(src, dst):
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    for root, dirs, files in os.walk(dst):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kmodel", required=True)
    ap.add_argument("--testdata", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--per-fixture", type=int, default=4, help="random offsets/flips per fixture")
    ap.add_argument("--keep-failures", default="")
    a = ap.parse_args()
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    r = Runner(os.path.abspath(a.kmodel), work, a.keep_failures)
    case = 0
    t0 = time.time()

    for kind, rel, member in FIXTURES:
        seed = int(hashlib.sha1(("%s:%s" % (rel, member)).encode()).hexdigest()[:8], 16)
        rng = random.Random(seed)
        if kind == "file":
            src = os.path.join(a.testdata, rel)
            data = open(src, "rb").read()
            ext = os.path.splitext(rel)[1]
            for label, blob in mutations(data, rng, a.per_fixture):
                p = os.path.join(work, "case" + ext)
                with open(p, "wb") as f:
                    f.write(blob)
                r.model_cases("%s %s" % (rel, label), p, case)
                case += 1
        elif kind == "ckpt":
            src_dir = os.path.dirname(os.path.join(a.testdata, rel))
            base = os.path.basename(rel)
            d = os.path.join(work, "ckpt")
            copy_tree(src_dir, d)
            target = os.path.join(d, base + member)
            data = open(target, "rb").read()
            for label, blob in mutations(data, rng, a.per_fixture):
                with open(target, "wb") as f:
                    f.write(blob)
                r.model_cases("%s%s %s" % (rel, member, label), os.path.join(d, base), case)
                case += 1
        elif kind == "savedmodel":
            d = os.path.join(work, "sm")
            copy_tree(os.path.join(a.testdata, rel), d)
            target = os.path.join(d, member)
            data = open(target, "rb").read()
            for label, blob in mutations(data, rng, a.per_fixture):
                with open(target, "wb") as f:
                    f.write(blob)
                r.model_cases("%s/%s %s" % (rel, member, label), d, case)
                case += 1
        elif kind == "npy":
            model = os.path.join(a.testdata, "predict/conv2d_1layer.h5")
            if not os.path.exists(model):
                continue
            base = npy_bytes("(1, 3)", payload=struct.pack("<3f", 1, 2, 3))
            variants = list(mutations(base, rng, a.per_fixture))
            variants += [("absurd-shape", npy_bytes("(4611686018427387904, 3)")),
                         ("negative-shape", npy_bytes("(-1, 3)")),
                         ("object-dtype", npy_bytes("(1,)", "|O", b"\x80\x04K\x01.")),
                         ("complex-dtype", npy_bytes("(1, 3)", "<c16", bytes(48))),
                         ("big-endian", npy_bytes("(1, 3)", ">f8", bytes(24))),
                         ("header-len-ff", b"\x93NUMPY\x01\x00\xff\xff{'descr'"),
                         ("v3-huge-header", b"\x93NUMPY\x03\x00\xff\xff\xff\xff{'descr'"),
                         ("lfs", LFS)]
            for label, blob in variants:
                p = os.path.join(work, "input.npy")
                with open(p, "wb") as f:
                    f.write(blob)
                out = os.path.join(work, "out", "pred.npy")
                r.run("npy " + label, ["predict", model, "-i", p, "-o", out], out_path=out)
                case += 1

    # Whole-file replacements: Git LFS pointers, empty files, directories where files are expected.
    specials = []
    for ext in (".h5", ".json", ".keras", ".index"):
        p = os.path.join(work, "lfs" + ext)
        open(p, "wb").write(LFS)
        specials.append(("lfs" + ext, p))
        p = os.path.join(work, "empty" + ext)
        open(p, "wb").close()
        specials.append(("empty" + ext, p))
        p = os.path.join(work, "dir" + ext)
        os.makedirs(p, exist_ok=True)
        specials.append(("dir" + ext, p))
    d = os.path.join(work, "ckpt_dirs")
    copy_tree(os.path.join(a.testdata, "checkpoint/charity_tf2"), d)
    os.remove(os.path.join(d, "weights.100.hd5f.index"))
    os.makedirs(os.path.join(d, "weights.100.hd5f.index"))
    specials.append(("ckpt index is a directory", os.path.join(d, "weights.100.hd5f")))
    d2 = os.path.join(work, "ckpt_lfs")
    copy_tree(os.path.join(a.testdata, "checkpoint/charity_tf2"), d2)
    open(os.path.join(d2, "weights.100.hd5f.data-00000-of-00001"), "wb").write(LFS)
    specials.append(("ckpt data is an LFS pointer", os.path.join(d2, "weights.100.hd5f")))
    for member, how in (("saved_model.pb", "dir"), ("variables/variables.index", "dir"),
                        ("saved_model.pb", "lfs"), ("variables/variables.data-00000-of-00001", "lfs")):
        d3 = os.path.join(work, "sm_%s_%s" % (how, member.replace("/", "_")))
        copy_tree(os.path.join(a.testdata, "savedmodel/coffee_roast_savedmodel_keras"), d3)
        os.remove(os.path.join(d3, member))
        if how == "dir":
            os.makedirs(os.path.join(d3, member))
        else:
            open(os.path.join(d3, member), "wb").write(LFS)
        specials.append(("savedmodel %s is %s" % (member, how), d3))
    specials += crafted_files(work)
    for label, p in specials:
        r.model_cases(label, p, case)
        case += 1

    print("malformed suite: %d cases, %d kmodel runs in %.1f s, exit codes %s, %d failures%s" % (
        case, r.runs, time.time() - t0, dict(sorted(r.codes.items())), len(r.failures),
        " (ASan binary: no ulimit -v)" if r.asan else ""))
    return 1 if r.failures else 0


if __name__ == "__main__":
    sys.exit(main())
