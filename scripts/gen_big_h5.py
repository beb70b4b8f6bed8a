#!/usr/bin/python3
"""Generates a large Keras-layout full-model H5 (tf.keras 2.x layout, h5py) for benchmarks.

usage: gen_big_h5.py OUT.h5 [--layers N] [--units U]
Default: 4 Dense layers of 8192x8192 float32 (256 MiB each) = 1 GiB of weights. Random-ish data is
written chunk by chunk so the generator itself stays small in memory.
"""
import argparse
import json

import h5py
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--layers", type=int, default=4)
p.add_argument("--units", type=int, default=8192)
a = p.parse_args()

U = a.units
layers = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, U], "dtype": "float32",
                                                   "sparse": False, "ragged": False, "name": "input_1"}}]
for i in range(a.layers):
    layers.append({"class_name": "Dense", "config": {
        "name": f"dense_{i}", "trainable": True, "dtype": "float32", "units": U, "activation": "relu",
        "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
        "bias_constraint": None}})
config = {"class_name": "Sequential", "config": {"name": "big", "layers": layers}}
rng = np.random.default_rng(0)
with h5py.File(a.out, "w") as f:
    f.attrs["keras_version"] = "2.15.0"
    f.attrs["backend"] = "tensorflow"
    f.attrs["model_config"] = json.dumps(config).encode()
    g = f.create_group("model_weights")
    g.attrs["layer_names"] = [f"dense_{i}".encode() for i in range(a.layers)]
    g.attrs["backend"] = b"tensorflow"
    g.attrs["keras_version"] = b"2.15.0"
    for i in range(a.layers):
        lg = g.create_group(f"dense_{i}")
        lg.attrs["weight_names"] = [f"dense_{i}/kernel:0".encode(), f"dense_{i}/bias:0".encode()]
        k = lg.create_dataset(f"dense_{i}/kernel:0", shape=(U, U), dtype="<f4")
        step = max(1, (1 << 24) // U)
        for r in range(0, U, step):
            k[r:r + step] = rng.standard_normal((min(step, U - r), U), dtype=np.float32)
        lg.create_dataset(f"dense_{i}/bias:0", data=np.zeros(U, dtype="<f4"))
