#!/usr/bin/python3
"""Differential check: every case in WORKDIR (H5 + NAME.in.npz + NAME.wantK.npy, made by make_h5.py
or ref_layers.py) is run through `kmodel predict` and compared to 1e-5 relative / 1e-6 absolute.
Usage: run_diff.py KMODEL WORKDIR. Exits 1 listing the failing cases."""
import glob
import os
import subprocess
import sys

import numpy as np


def main(kmodel, work):
    failures, count = [], 0
    for h5 in sorted(glob.glob(os.path.join(work, "*.h5"))):
        name = os.path.basename(h5)[:-3]
        wants = sorted(glob.glob(os.path.join(work, name + ".want*.npy")))
        got_path = os.path.join(work, name + ".got.npz")
        if os.path.exists(got_path):
            os.remove(got_path)
        p = subprocess.run([kmodel, "predict", h5, "-i", os.path.join(work, name + ".in.npz"), "-o", got_path],
                           capture_output=True, text=True)
        count += 1
        if p.returncode != 0:
            failures.append("%s: exit %d: %s" % (name, p.returncode, p.stderr.strip()))
            continue
        got = np.load(got_path)
        if len(got.files) != len(wants):
            failures.append("%s: %d outputs, expected %d" % (name, len(got.files), len(wants)))
            continue
        for key, want_path in zip(got.files, wants):
            g, w = got[key], np.load(want_path)
            if g.shape != w.shape:
                failures.append("%s/%s: shape %s, expected %s" % (name, key, g.shape, w.shape))
                continue
            err = np.abs(g.astype(np.float64) - w)
            if not (err <= np.maximum(1e-5 * np.abs(w), 1e-6)).all():
                failures.append("%s/%s: max abs error %g" % (name, key, err.max()))
    for f in failures:
        print("FAIL " + f)
    print("differential cases: %d run, %d failed" % (count, len(failures)))
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
