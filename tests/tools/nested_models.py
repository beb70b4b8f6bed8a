#!/usr/bin/python3
"""Writes the nested-model architectures the CLI tests build with `kmodel save --init` (the corpus holds
no real nested Sequential/Functional artifact), made from the real keras_3layer_batch_norm.h5 config:
  functional.json  x -> pretrained (the BatchNormalization Functional model) -> head
  sequential.json  Sequential [Sequential block (InputLayer, Dense, BatchNormalization, Activation), Dense]
  multi_io.json    inputs a (16), b (8); Sequential tower on a; out_a; a two-input Functional mixer
                   (Concatenate, Sequential deep with a Dropout) on (tower, b); out_b -- two levels deep
and inputs x16.npy (5, 16), b8.npy (5, 8). Usage: nested_models.py <testdata/diff> <out dir>
"""
import h5py, json, sys, copy
diff, out = sys.argv[1], sys.argv[2]
bn = json.loads(h5py.File(diff + "/keras_3layer_batch_norm.h5", "r").attrs["model_config"])
by_name = {l["name"]: l for l in bn["config"]["layers"]}
def entry(name, new_name=None):
    e = copy.deepcopy({k: by_name[name][k] for k in ("class_name", "config")})
    if new_name: e["config"]["name"] = new_name
    return e
def dense(name, units, act="linear"):
    e = entry("fc1_relu", name); e["config"].update(units=units, activation=act)
    return e
def inp(name, n):
    return {"class_name": "InputLayer", "config": {"batch_input_shape": [None, n], "dtype": "float32",
                                                   "sparse": False, "ragged": False, "name": name}}
def call(layer, *ins):
    l = copy.deepcopy(layer); l["name"] = l["config"]["name"]
    l["inbound_nodes"] = [[[i, n, 0, {}] for i, n in ins]] if ins else []
    return l
def model(cls, name, config, *ins):
    return {"class_name": cls, "name": name, "config": config, "inbound_nodes": [[[i, n, 0, {}] for i, n in ins]]}
env = {"keras_version": "2.13.1", "backend": "tensorflow"}
pre = copy.deepcopy(bn["config"]); pre["name"] = "pretrained"
functional = {"class_name": "Functional", "config": {"name": "outer", "layers": [
    call(inp("x", 16)), model("Functional", "pretrained", pre, ("x", 0)), call(dense("head", 3), ("pretrained", 1))],
    "input_layers": [["x", 0, 0]], "output_layers": [["head", 0, 0]]}, **env}
block = {"name": "block", "layers": [inp("block_in", 16), entry("fc1_relu"), entry("bn1"), entry("relu1")]}
sequential = {"class_name": "Sequential", "config": {"name": "outer_seq", "layers": [
    {"class_name": "Sequential", "config": block}, dense("head", 3, "softmax")]}, **env}
tower = {"name": "tower", "layers": [inp("tower_in", 16), dense("t1", 8, "relu"), entry("bn2", "t_bn")]}
drop = {"class_name": "Dropout", "config": {"name": "drop", "trainable": True, "dtype": "float32", "rate": 0.5,
                                            "noise_shape": None, "seed": None}}
deep = {"name": "deep", "layers": [inp("deep_in", 16), dense("d1", 4, "relu"), drop, dense("d2", 4)]}
cat = {"class_name": "Concatenate", "config": {"name": "cat", "trainable": True, "dtype": "float32", "axis": -1}}
mixer = {"name": "mixer", "layers": [call(inp("p", 8)), call(inp("q", 8)), call(cat, ("p", 0), ("q", 0)),
                                     model("Sequential", "deep", deep, ("cat", 0))],
         "input_layers": [["p", 0, 0], ["q", 0, 0]], "output_layers": [["deep", 1, 0]]}
multi = {"class_name": "Functional", "config": {"name": "multi", "layers": [
    call(inp("a", 16)), call(inp("b", 8)), model("Sequential", "tower", tower, ("a", 0)),
    call(dense("out_a", 2), ("tower", 1)), model("Functional", "mixer", mixer, ("tower", 1), ("b", 0)),
    call(dense("out_b", 1), ("mixer", 1))],
    "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["out_a", 0, 0], ["out_b", 0, 0]]}, **env}
for name, m in (("functional", functional), ("sequential", sequential), ("multi_io", multi)):
    json.dump(m, open("%s/%s.json" % (out, name), "w"))
import numpy as np
rng = np.random.default_rng(3)
np.save(out + "/x16.npy", rng.standard_normal((5, 16)).astype(np.float32))
np.save(out + "/b8.npy", rng.standard_normal((5, 8)).astype(np.float32))
