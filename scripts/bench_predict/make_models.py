#!/usr/bin/python3
"""Builds the benchmark models twice from the same random weights: as Keras H5 (tf.keras 2 layout,
for kmodel predict) and as ONNX (Debian's python3-onnx, for onnxruntime), plus inputs for batch 1
and 64 (.npy for kmodel, raw float32 .bin for node). Models: mlp (784-512-512-10), cnn (MNIST-sized:
Conv32-Pool-Conv64-Pool-Dense128-Dense10), lstm (LSTM(128) over 50 steps of 32 features + Dense10),
dense (one Dense 512->512, for the GEMM throughput comparison). Usage: make_models.py OUTDIR"""
import json
import os
import sys

import h5py
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)


def rw(*shape, scale=None):
    scale = scale or 1.0 / np.sqrt(shape[0] if len(shape) > 1 else 1)
    return rng.uniform(-scale, scale, size=shape).astype(np.float32)


def keras_h5(path, input_shape, layers):
    """layers: list of (class_name, config, [(weight_name, array)])"""
    cfg = {"class_name": "Sequential", "keras_version": "2.15.0", "backend": "tensorflow",
           "config": {"name": "seq", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [None] + list(input_shape), "name": "x"}}]
                      + [{"class_name": c, "config": dict(conf)} for c, conf, _ in layers]}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(cfg).encode()
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([conf["name"].encode() for _, conf, _ in layers])
        for _, conf, ws in layers:
            lg = g.create_group(conf["name"])
            names = ["%s/%s:0" % (conf["name"], n) for n, _ in ws]
            lg.attrs["weight_names"] = np.array([n.encode() for n in names]) if names else np.zeros((0,), np.float64)
            for n, (_, a) in zip(names, ws):
                lg.create_dataset(n, data=a)


def onnx_model(path, nodes, inits, in_shape, out_shape):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
                              [numpy_helper.from_array(a, n) for n, a in inits.items()])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, path)


def dense(name, units, act, k, b):
    return ("Dense", {"name": name, "units": units, "activation": act, "use_bias": True}, [("kernel", k), ("bias", b)])


def mlp(out):
    k1, b1, k2, b2, k3, b3 = rw(784, 512), rw(512, scale=0.1), rw(512, 512), rw(512, scale=0.1), rw(512, 10), rw(10, scale=0.1)
    keras_h5(os.path.join(out, "mlp.h5"), [784], [dense("d1", 512, "relu", k1, b1), dense("d2", 512, "relu", k2, b2), dense("d3", 10, "softmax", k3, b3)])
    nodes = [helper.make_node("Gemm", ["x", "k1", "b1"], ["h1"]), helper.make_node("Relu", ["h1"], ["r1"]),
             helper.make_node("Gemm", ["r1", "k2", "b2"], ["h2"]), helper.make_node("Relu", ["h2"], ["r2"]),
             helper.make_node("Gemm", ["r2", "k3", "b3"], ["h3"]), helper.make_node("Softmax", ["h3"], ["y"], axis=-1)]
    onnx_model(os.path.join(out, "mlp.onnx"), nodes, dict(k1=k1, b1=b1, k2=k2, b2=b2, k3=k3, b3=b3), ["N", 784], ["N", 10])
    return [784]


def dense_only(out):
    k, b = rw(512, 512), rw(512, scale=0.1)
    keras_h5(os.path.join(out, "dense.h5"), [512], [dense("d", 512, "linear", k, b)])
    onnx_model(os.path.join(out, "dense.onnx"), [helper.make_node("Gemm", ["x", "k", "b"], ["y"])], dict(k=k, b=b), ["N", 512], ["N", 512])
    return [512]


def cnn(out):
    c1k, c1b = rw(3, 3, 1, 32, scale=0.3), rw(32, scale=0.1)
    c2k, c2b = rw(3, 3, 32, 64, scale=0.06), rw(64, scale=0.1)
    dk, db = rw(1600, 128), rw(128, scale=0.1)
    ok, ob = rw(128, 10), rw(10, scale=0.1)
    conv = lambda n, f, k, b: ("Conv2D", {"name": n, "filters": f, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                                          "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
                                          "activation": "relu", "use_bias": True}, [("kernel", k), ("bias", b)])
    pool = lambda n: ("MaxPooling2D", {"name": n, "pool_size": [2, 2], "strides": [2, 2], "padding": "valid", "data_format": "channels_last"}, [])
    keras_h5(os.path.join(out, "cnn.h5"), [28, 28, 1],
             [conv("c1", 32, c1k, c1b), pool("p1"), conv("c2", 64, c2k, c2b), pool("p2"),
              ("Flatten", {"name": "f"}, []), dense("d1", 128, "relu", dk, db), dense("d2", 10, "softmax", ok, ob)])
    oihw = lambda k: np.ascontiguousarray(k.transpose(3, 2, 0, 1))
    nodes = [helper.make_node("Transpose", ["x"], ["xc"], perm=[0, 3, 1, 2]),
             helper.make_node("Conv", ["xc", "c1k", "c1b"], ["h1"], kernel_shape=[3, 3]), helper.make_node("Relu", ["h1"], ["r1"]),
             helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p1", "c2k", "c2b"], ["h2"], kernel_shape=[3, 3]), helper.make_node("Relu", ["h2"], ["r2"]),
             helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Transpose", ["p2"], ["p2t"], perm=[0, 2, 3, 1]),  # back to NHWC so Flatten matches Keras
             helper.make_node("Flatten", ["p2t"], ["fl"], axis=1),
             helper.make_node("Gemm", ["fl", "dk", "db"], ["h3"]), helper.make_node("Relu", ["h3"], ["r3"]),
             helper.make_node("Gemm", ["r3", "ok", "ob"], ["h4"]), helper.make_node("Softmax", ["h4"], ["y"], axis=-1)]
    onnx_model(os.path.join(out, "cnn.onnx"), nodes, dict(c1k=oihw(c1k), c1b=c1b, c2k=oihw(c2k), c2b=c2b, dk=dk, db=db, ok=ok, ob=ob),
               ["N", 28, 28, 1], ["N", 10])
    return [28, 28, 1]


def lstm(out):
    T, D, U = 50, 32, 128
    k, rk, b = rw(D, 4 * U), rw(U, 4 * U), rw(4 * U, scale=0.1)
    dk, db = rw(U, 10), rw(10, scale=0.1)
    keras_h5(os.path.join(out, "lstm.h5"), [T, D],
             [("LSTM", {"name": "lstm", "units": U, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
                        "return_sequences": False}, [("kernel", k), ("recurrent_kernel", rk), ("bias", b)]),
              dense("d", 10, "linear", dk, db)])
    # Keras gates i, f, c, o -> ONNX i, o, f, c; W (1, 4U, D), R (1, 4U, U), B (1, 8U)
    def reorder(m):
        i, f, c, o = np.split(m, 4, axis=-1)
        return np.concatenate([i, o, f, c], axis=-1)
    W = reorder(k).T[None].copy()
    R = reorder(rk).T[None].copy()
    B = np.concatenate([reorder(b), np.zeros(4 * U, np.float32)])[None].copy()
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
             helper.make_node("LSTM", ["xt", "W", "R", "B"], ["", "yh"], hidden_size=U),
             helper.make_node("Squeeze", ["yh", "axes0"], ["h"]),
             helper.make_node("Gemm", ["h", "dk", "db"], ["y"])]
    onnx_model(os.path.join(out, "lstm.onnx"), nodes, dict(W=W, R=R, B=B, dk=dk, db=db, axes0=np.array([0], np.int64)),
               ["N", T, D], ["N", 10])
    return [T, D]


def main(out):
    os.makedirs(out, exist_ok=True)
    for name, fn in [("mlp", mlp), ("cnn", cnn), ("lstm", lstm), ("dense", dense_only)]:
        shape = fn(out)
        for batch in (1, 64):
            x = rng.uniform(0, 1, size=[batch] + shape).astype(np.float32)
            np.save(os.path.join(out, "%s_b%d.npy" % (name, batch)), x)
            x.tofile(os.path.join(out, "%s_b%d.bin" % (name, batch)))


if __name__ == "__main__":
    main(sys.argv[1])
