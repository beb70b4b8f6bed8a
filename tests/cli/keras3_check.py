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


def keys_like(real, ours):
    """Layer entries and configs of `ours` use the keys a real Keras 3 archive uses for the same class
    (extra keys allowed only with null/false/default-like values)."""
    def entries(path):
        cfg = json.loads(zipfile.ZipFile(path).read("config.json"))
        out = {}
        for l in cfg["config"]["layers"]:
            out.setdefault(l["class_name"], l)
        return cfg, out
    rc, rl = entries(real)
    oc, ol = entries(ours)
    common = set(rl) & set(ol)
    assert common, (set(rl), set(ol))
    for cls in common:
        r, o = rl[cls], ol[cls]
        extra_entry = set(o) - set(r) - {"name", "inbound_nodes"}
        assert not extra_entry, (cls, extra_entry)
        extra = {k: v for k, v in o["config"].items() if k not in r["config"]}
        assert all(v in (None, False, 0, 0.0) for v in extra.values()), (cls, extra)
        # Nested objects have the same envelope keys as the real ones.
        for k, v in o["config"].items():
            if isinstance(v, dict) and isinstance(r["config"].get(k), dict):
                assert set(v) - {"shared_object_id"} == set(r["config"][k]) - {"shared_object_id"}, (cls, k, v)
    assert set(oc) <= set(rc) | {"build_config", "compile_config"}, set(oc)
    if "compile_config" in oc and "compile_config" in rc and rc["compile_config"]:
        assert set(oc["compile_config"]) == set(rc["compile_config"]), (set(oc["compile_config"]), set(rc["compile_config"]))
        assert set(oc["compile_config"]["optimizer"]) == set(rc["compile_config"]["optimizer"])


if __name__ == "__main__":
    mode, a, b = sys.argv[1:4]
    {"same-keras": same_keras, "h5-vs-keras": h5_vs_keras, "keys-like": keys_like}[mode](a, b)
