#!/usr/bin/python3
"""Independent parameter count of a Keras H5 file (h5py only): the sum of the element counts of
every dataset listed in the weights group's weight_names. Prints one integer.
usage: h5_params.py FILE.h5"""
import sys

import h5py
import numpy as np


def str_list(obj, name):
    if name in obj.attrs:
        return [bytes(v).rstrip(b"\0").decode() if isinstance(v, (bytes, np.bytes_)) else str(v)
                for v in obj.attrs[name] if not isinstance(v, (float, np.floating))]
    vals, i = [], 0
    while f"{name}{i}" in obj.attrs:
        vals += [bytes(v).rstrip(b"\0").decode() for v in obj.attrs[f"{name}{i}"]]
        i += 1
    return vals


with h5py.File(sys.argv[1], "r") as f:
    g = f if ("layer_names" in f.attrs or "layer_names0" in f.attrs) else f["model_weights"]
    total = 0
    for layer in str_list(g, "layer_names"):
        for w in str_list(g[layer], "weight_names"):
            total += int(np.prod(g[layer][w].shape))
    print(total)
