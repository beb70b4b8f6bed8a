#!/usr/bin/python3
"""Turns gen.js case records into Keras H5 models (h5py, the save_model layout: model_config,
model_weights/layer_names, per-layer weight_names and datasets) plus input .npz and expected .npy
files. Usage: make_h5.py CASE.json OUTDIR"""
import json
import os
import sys

import h5py
import numpy as np


def main(case_path, out):
    rec = json.load(open(case_path))
    name = rec["name"]
    topo = rec["topology"]
    topo["keras_version"] = "2.15.0"  # tfjs writes "tfjs-layers x.y"; the config is Keras 2 dialect
    topo["backend"] = "tensorflow"
    with h5py.File(os.path.join(out, name + ".h5"), "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(topo).encode()
        g = f.create_group("model_weights")
        g.attrs["keras_version"] = b"2.15.0"
        g.attrs["backend"] = b"tensorflow"
        g.attrs["layer_names"] = np.array([l["name"].encode() for l in rec["layers"]])
        for layer in rec["layers"]:
            lg = g.create_group(layer["name"])
            names = []
            for i, w in enumerate(layer["weights"]):
                wname = w["name"] if ":" in w["name"] else w["name"] + ":0"
                if wname in names:  # tfjs nested models may repeat short names
                    wname = "%d_%s" % (i, wname)
                names.append(wname)
                lg.create_dataset(wname, data=np.array(w["values"], dtype=np.float32).reshape(w["shape"]))
            lg.attrs["weight_names"] = np.array([n.encode() for n in names]) if names else np.zeros((0,), np.float64)
    np.savez(os.path.join(out, name + ".in.npz"),
             **{x["name"]: np.array(x["values"], dtype=np.float32).reshape(x["shape"]) for x in rec["inputs"]})
    for i, y in enumerate(rec["outputs"]):
        np.save(os.path.join(out, "%s.want%d.npy" % (name, i)), np.array(y["values"], dtype=np.float32).reshape(y["shape"]))
    print(len(rec["outputs"]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
