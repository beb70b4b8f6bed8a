#!/usr/bin/env python3
"""Independent checks of .keras files written by kmodel (Python zipfile + h5py + numpy only).

same-keras A B     : same config.json bytes, same dataset paths/shapes/dtypes/bytes in model.weights.h5.
h5-vs-keras H5 K   : every weight of the Keras 2 H5 file is, bit for bit, where Keras 3's layout rules
                     put it in K (layers/<snake_case(class)>[_n]/vars/i, RNN weights under cell/vars).
"""
import io
import json
import re
import sys
import zipfile

import h5py
import numpy as np


def weights_file(path):
    z = zipfile.ZipFile(path)
    return z, h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")


def snake(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def datasets(f):
    out = {}
    f.visititems(lambda n, o: out.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None)
    return out


def same_keras(a, b):
    za, fa = weights_file(a)
    zb, fb = weights_file(b)
    assert za.read("config.json") == zb.read("config.json"), "config.json differs"
    da, db = datasets(fa), datasets(fb)
    assert sorted(da) == sorted(db), (sorted(da), sorted(db))
    for k in da:
        x, y = da[k][()], db[k][()]
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), k


def decode(v):
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def h5_vs_keras(h5, kpath):
    src = h5py.File(h5, "r")
    z, dst = weights_file(kpath)
    cfg = json.loads(z.read("config.json"))
    mw = src["model_weights"] if "model_weights" in src else src
    layers = cfg["config"]["layers"]
    if cfg["class_name"] == "Sequential":
        layers = [l for l in layers if l["class_name"] != "InputLayer"]
    used = {}
    checked = 0
    for l in layers:
        base = snake(l["class_name"])
        if base in used:
            used[base] += 1
            group = "layers/%s_%d" % (base, used[base])
        else:
            used[base] = 0
            group = "layers/" + base
        name = l["config"]["name"]
        assert group + "/vars" in dst, (group, list(dst["layers"]))
        assert decode(dst[group + "/vars"].attrs["name"]) == name
        if name not in mw:
            continue
        wn = [decode(n) for n in mw[name].attrs.get("weight_names", [])]
        rnn = l["class_name"] in ("LSTM", "GRU", "SimpleRNN")
        vars_path = group + ("/cell/vars" if rnn else "/vars")
        for i, n in enumerate(wn):
            x = mw[name][n][()]
            y = dst["%s/%d" % (vars_path, i)][()]
            assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), (name, n)
            checked += 1
        assert len(dst[vars_path]) == len(wn), (vars_path, len(dst[vars_path]), len(wn))
    assert checked > 0
    assert "vars" in dst


if __name__ == "__main__":
    mode, a, b = sys.argv[1:4]
    {"same-keras": same_keras, "h5-vs-keras": h5_vs_keras}[mode](a, b)
