#!/usr/bin/python3
"""NumPy references for layers TensorFlow.js lacks or gets wrong (MultiHeadAttention, Attention, GRU
with reset_after=True, causal Conv1D, Subtract, Cropping1D/UpSampling1D, BatchNormalization on a
non-last axis, ConvLSTM1D/3D and ConvLSTM2D beyond tfjs's options), written from Keras's documented
math; and the corpus ConvLSTM2D model (testdata/h5, real tf.keras weights) run through the same
reference. Writes, per case, a Keras 2 H5 (model_config
in tf.keras dialect + weights), NAME.in.npz and NAME.want0.npy, like make_h5.py.
Usage: ref_layers.py OUTDIR"""
import json
import os
import sys

import h5py
import numpy as np

rng = np.random.default_rng(7)


def r(*shape, lo=-0.6, hi=0.6):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def write_h5(path, config, weights):
    """weights: list of (layer_name, [(weight_name, array)])"""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([n.encode() for n, _ in weights])
        for lname, ws in weights:
            lg = g.create_group(lname)
            lg.attrs["weight_names"] = np.array([w.encode() for w, _ in ws]) if ws else np.zeros((0,), np.float64)
            for w, a in ws:
                lg.create_dataset(w, data=a)


def inp(name, shape):
    return {"class_name": "InputLayer", "name": name, "inbound_nodes": [],
            "config": {"batch_input_shape": [None] + list(shape), "dtype": "float32", "name": name}}


def functional(layers, inputs, outputs):
    return {"class_name": "Functional", "keras_version": "2.15.0", "backend": "tensorflow",
            "config": {"name": "model", "layers": layers, "input_layers": [[i, 0, 0] for i in inputs],
                       "output_layers": [[o, 0, 0] for o in outputs]}}


def sequential(shape, layers):
    return {"class_name": "Sequential", "keras_version": "2.15.0", "backend": "tensorflow",
            "config": {"name": "seq", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [None] + list(shape), "name": "x"}}] + layers}}


def softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def save(out, name, config, weights, inputs, want):
    write_h5(os.path.join(out, name + ".h5"), config, weights)
    np.savez(os.path.join(out, name + ".in.npz"), **inputs)
    np.save(os.path.join(out, name + ".want0.npy"), want.astype(np.float32))


def case_mha(out, heads, key_dim, value_dim, self_attention):
    B, Tq, Tv, dq, dv = 2, 4, 5, 6, 3
    q = r(B, Tq, dq, lo=-1, hi=1)
    v = q if self_attention else r(B, Tv, dv, lo=-1, hi=1)
    dvin = v.shape[-1]
    W = dict(qk=r(dq, heads, key_dim), qb=r(heads, key_dim), kk=r(dvin, heads, key_dim), kb=r(heads, key_dim),
             vk=r(dvin, heads, value_dim), vb=r(heads, value_dim), ok=r(heads, value_dim, dq), ob=r(dq))
    Q = np.einsum("btd,dhk->bthk", q, W["qk"]) + W["qb"]
    K = np.einsum("btd,dhk->bthk", v, W["kk"]) + W["kb"]
    V = np.einsum("btd,dhk->bthk", v, W["vk"]) + W["vb"]
    scores = np.einsum("bqhk,bvhk->bhqv", Q / np.sqrt(key_dim), K)
    ctx = np.einsum("bhqv,bvhk->bqhk", softmax(scores), V)
    y = np.einsum("bqhk,hko->bqo", ctx, W["ok"]) + W["ob"]
    cfg = {"name": "mha", "num_heads": heads, "key_dim": key_dim, "value_dim": value_dim, "dropout": 0.0,
           "use_bias": True, "output_shape": None, "attention_axes": [1]}
    layers = [inp("q", q.shape[1:])]
    if self_attention:
        node = [["q", 0, 0, {"value": ["q", 0, 0]}]]
        inputs = {"q": q}
    else:
        layers.append(inp("v", v.shape[1:]))
        node = [["q", 0, 0, {"value": ["v", 0, 0]}]]
        inputs = {"q": q, "v": v}
    layers.append({"class_name": "MultiHeadAttention", "name": "mha", "config": cfg, "inbound_nodes": [node]})
    names = ["query/kernel:0", "query/bias:0", "key/kernel:0", "key/bias:0", "value/kernel:0", "value/bias:0",
             "attention_output/kernel:0", "attention_output/bias:0"]
    ws = [("mha/" + n, W[k]) for n, k in zip(names, ["qk", "qb", "kk", "kb", "vk", "vb", "ok", "ob"])]
    name = "ref_mha_h%d_k%d_v%d_%s" % (heads, key_dim, value_dim, "self" if self_attention else "cross")
    save(out, name, functional(layers, list(inputs), ["mha"]), [("mha", ws)], inputs, y)


def case_attention(out, use_scale):
    B, Tq, Tv, d = 2, 3, 4, 5
    q, v = r(B, Tq, d, lo=-1, hi=1), r(B, Tv, d, lo=-1, hi=1)
    scale = np.array(1.7, np.float32)
    s = np.einsum("bqd,bvd->bqv", q, v) * (scale if use_scale else 1.0)
    y = np.einsum("bqv,bvd->bqd", softmax(s), v)
    layers = [inp("q", (Tq, d)), inp("v", (Tv, d)),
              {"class_name": "Attention", "name": "att", "config": {"name": "att", "use_scale": use_scale, "score_mode": "dot"},
               "inbound_nodes": [[["q", 0, 0, {}], ["v", 0, 0, {}]]]}]
    ws = [("att/scale:0", scale)] if use_scale else []
    save(out, "ref_attention_scale%d" % use_scale, functional(layers, ["q", "v"], ["att"]), [("att", ws)], {"q": q, "v": v}, y)


def case_gru_reset_after(out, go_backwards):
    B, T, D, U = 3, 5, 4, 3
    x = r(B, T, D, lo=-1, hi=1)
    Wk, Wr, b = r(D, 3 * U), r(U, 3 * U), r(2, 3 * U)
    h = np.zeros((B, U), np.float64)
    steps = range(T - 1, -1, -1) if go_backwards else range(T)
    seq = []
    for t in steps:
        xz = x[:, t] @ Wk + b[0]
        hz = h @ Wr + b[1]
        z = sigmoid(xz[:, :U] + hz[:, :U])
        rr = sigmoid(xz[:, U:2 * U] + hz[:, U:2 * U])
        hh = np.tanh(xz[:, 2 * U:] + rr * hz[:, 2 * U:])
        h = z * h + (1 - z) * hh
        seq.append(h)
    y = np.stack(seq, axis=1)
    cfg = {"name": "gru", "units": U, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
           "return_sequences": True, "go_backwards": go_backwards, "reset_after": True}
    save(out, "ref_gru_reset_after_back%d" % go_backwards, sequential((T, D), [{"class_name": "GRU", "config": cfg}]),
         [("gru", [("gru/gru_cell/kernel:0", Wk), ("gru/gru_cell/recurrent_kernel:0", Wr), ("gru/gru_cell/bias:0", b)])],
         {"x": x}, y)


def case_causal_conv1d(out):
    B, T, C, F, k, dil = 2, 7, 3, 4, 3, 2
    x = r(B, T, C, lo=-1, hi=1)
    W, b = r(k, C, F), r(F)
    xp = np.concatenate([np.zeros((B, (k - 1) * dil, C), np.float32), x], axis=1)
    y = np.stack([sum(xp[:, t + j * dil] @ W[j] for j in range(k)) + b for t in range(T)], axis=1)
    cfg = {"name": "conv", "filters": F, "kernel_size": [k], "strides": [1], "padding": "causal",
           "dilation_rate": [dil], "activation": "linear", "use_bias": True, "data_format": "channels_last", "groups": 1}
    save(out, "ref_conv1d_causal", sequential((T, C), [{"class_name": "Conv1D", "config": cfg}]),
         [("conv", [("conv/kernel:0", W), ("conv/bias:0", b)])], {"x": x}, y)


def case_subtract_crop_up(out):
    a, b = r(2, 6, 3, lo=-1, hi=1), r(2, 6, 3, lo=-1, hi=1)
    d = a - b
    y = np.repeat(d[:, 1:5], 2, axis=1)
    layers = [inp("a", (6, 3)), inp("b", (6, 3)),
              {"class_name": "Subtract", "name": "sub", "config": {"name": "sub"}, "inbound_nodes": [[["a", 0, 0, {}], ["b", 0, 0, {}]]]},
              {"class_name": "Cropping1D", "name": "crop", "config": {"name": "crop", "cropping": [1, 1]}, "inbound_nodes": [[["sub", 0, 0, {}]]]},
              {"class_name": "UpSampling1D", "name": "up", "config": {"name": "up", "size": 2}, "inbound_nodes": [[["crop", 0, 0, {}]]]}]
    save(out, "ref_subtract_crop_up1d", functional(layers, ["a", "b"], ["up"]), [], {"a": a, "b": b}, y)


def case_bn_axis1(out):
    x = r(3, 3, 4, lo=-2, hi=2)
    g, be, m, v = r(3), r(3), r(3), r(3, lo=0.5, hi=1.5)
    y = (x - m[None, :, None]) / np.sqrt(v[None, :, None] + 1e-3) * g[None, :, None] + be[None, :, None]
    cfg = {"name": "bn", "axis": 1, "epsilon": 1e-3, "center": True, "scale": True}
    save(out, "ref_batchnorm_axis1", sequential((3, 4), [{"class_name": "BatchNormalization", "config": cfg}]),
         [("bn", [("bn/gamma:0", g), ("bn/beta:0", be), ("bn/moving_mean:0", m), ("bn/moving_variance:0", v)])], {"x": x}, y)


def case_misc(out):
    """Layers without a tfjs twin: Conv1DTranspose, DepthwiseConv1D, SeparableConv1D, UnitNormalization,
    GroupNormalization, Normalization, Rescaling, log_softmax, 3D padding/cropping/upsampling, global 3D pooling."""
    n = 0
    # Conv1DTranspose, stride 2, same padding: out[i*s + j - pad] += x[i] . W[j]^T, pad = (keff - s) / 2 (TF)
    x = r(2, 5, 3, lo=-1, hi=1)
    k, b = r(3, 4, 3), r(4)  # (k, filters, in)
    L, s_, kk = 10, 2, 3
    pad = max((5 - 1) * s_ + kk - L, 0) // 2
    y = np.zeros((2, L, 4), np.float64)
    for i in range(5):
        for j in range(kk):
            o = i * s_ + j - pad
            if 0 <= o < L:
                y[:, o] += x[:, i] @ k[j].T
    y += b
    cfg = {"name": "ct", "filters": 4, "kernel_size": [3], "strides": [2], "padding": "same", "output_padding": None,
           "data_format": "channels_last", "dilation_rate": [1], "activation": "linear", "use_bias": True}
    save(out, "ref_conv1d_transpose", sequential((5, 3), [{"class_name": "Conv1DTranspose", "config": cfg}]),
         [("ct", [("ct/kernel:0", k), ("ct/bias:0", b)])], {"x": x}, y)
    n += 1
    # DepthwiseConv1D (multiplier 2, valid) and SeparableConv1D (same) with relu
    x = r(2, 7, 3, lo=-1, hi=1)
    dw, db = r(3, 3, 2), r(6)
    dep = np.stack([np.einsum("bkc,kcm->bcm", x[:, t:t + 3], dw).reshape(2, 6) for t in range(5)], axis=1) + db
    cfg = {"name": "dw", "kernel_size": [3], "strides": [1], "padding": "valid", "depth_multiplier": 2,
           "data_format": "channels_last", "dilation_rate": [1], "activation": "linear", "use_bias": True}
    save(out, "ref_depthwise_conv1d", sequential((7, 3), [{"class_name": "DepthwiseConv1D", "config": cfg}]),
         [("dw", [("dw/depthwise_kernel:0", dw), ("dw/bias:0", db)])], {"x": x}, dep)
    pw, pb = r(1, 6, 4), r(4)
    xp = np.concatenate([np.zeros((2, 1, 3), np.float32), x, np.zeros((2, 1, 3), np.float32)], axis=1)
    dep_same = np.stack([np.einsum("bkc,kcm->bcm", xp[:, t:t + 3], dw).reshape(2, 6) for t in range(7)], axis=1)
    sep = np.maximum(dep_same @ pw[0] + pb, 0)
    cfg = {"name": "sc", "filters": 4, "kernel_size": [3], "strides": [1], "padding": "same", "depth_multiplier": 2,
           "data_format": "channels_last", "dilation_rate": [1], "activation": "relu", "use_bias": True}
    save(out, "ref_separable_conv1d", sequential((7, 3), [{"class_name": "SeparableConv1D", "config": cfg}]),
         [("sc", [("sc/depthwise_kernel:0", dw), ("sc/pointwise_kernel:0", pw), ("sc/bias:0", pb)])], {"x": x}, sep)
    n += 2
    # UnitNormalization, GroupNormalization (4 groups over 8 channels, spatial 3x2), LayerNorm rms-free
    x = r(2, 3, 2, 8, lo=-2, hi=2)
    un = x / np.sqrt(np.maximum((x * x).sum(-1, keepdims=True), 1e-12))
    save(out, "ref_unit_normalization", sequential((3, 2, 8), [{"class_name": "UnitNormalization", "config": {"name": "un", "axis": -1}}]),
         [], {"x": x}, un)
    g, be = r(8), r(8)
    xg = x.reshape(2, 6, 4, 2).astype(np.float64)
    mean = xg.mean(axis=(1, 3), keepdims=True)
    var = xg.var(axis=(1, 3), keepdims=True)
    gn = ((xg - mean) / np.sqrt(var + 1e-3)).reshape(2, 3, 2, 8) * g + be
    save(out, "ref_group_normalization", sequential((3, 2, 8), [{"class_name": "GroupNormalization", "config": {"name": "gn", "groups": 4, "axis": -1, "epsilon": 1e-3, "center": True, "scale": True}}]),
         [("gn", [("gn/gamma:0", g), ("gn/beta:0", be)])], {"x": x}, gn)
    n += 2
    # Normalization (weights mean/variance/count), Rescaling, log_softmax Activation
    x = r(3, 4, lo=-3, hi=3)
    mu, va = r(4), r(4, lo=0.2, hi=2)
    y = np.log(softmax((x - mu) / np.sqrt(va) * 0.5 + 0.25))
    layers = [{"class_name": "Normalization", "config": {"name": "nm", "axis": [-1], "mean": None, "variance": None, "invert": False}},
              {"class_name": "Rescaling", "config": {"name": "rs", "scale": 0.5, "offset": 0.25}},
              {"class_name": "Activation", "config": {"name": "ls", "activation": "log_softmax"}}]
    save(out, "ref_normalization_rescaling_log_softmax", sequential((4,), layers),
         [("nm", [("nm/mean:0", mu), ("nm/variance:0", va), ("nm/count:0", np.array(10, np.int64))]), ("rs", []), ("ls", [])],
         {"x": x}, y)
    n += 1
    # ZeroPadding3D -> Cropping3D -> UpSampling3D -> GlobalAveragePooling3D(keepdims) and GlobalMax3D
    x = r(2, 2, 3, 2, 3, lo=-1, hi=1)
    z = np.pad(x, ((0, 0), (1, 1), (0, 2), (1, 0), (0, 0)))
    c = z[:, 1:, :, 1:]
    u = c.repeat(2, axis=1).repeat(1, axis=2).repeat(2, axis=3)
    y = u.mean(axis=(1, 2, 3), keepdims=True)
    layers = [{"class_name": "ZeroPadding3D", "config": {"name": "zp", "padding": [[1, 1], [0, 2], [1, 0]]}},
              {"class_name": "Cropping3D", "config": {"name": "cr", "cropping": [[1, 0], [0, 0], [1, 0]]}},
              {"class_name": "UpSampling3D", "config": {"name": "up", "size": [2, 1, 2]}},
              {"class_name": "GlobalAveragePooling3D", "config": {"name": "gp", "keepdims": True}}]
    save(out, "ref_pad_crop_up_pool_3d", sequential((2, 3, 2, 3), layers), [], {"x": x}, y)
    n += 1
    return n


def case_keras3_functional(out):
    """A Keras 3 dialect config (batch_shape, module/registered_name, __keras_tensor__ call args)."""
    a, b = r(3, 4, lo=-1, hi=1), r(3, 4, lo=-1, hi=1)
    k, bias = r(4, 2), r(2)
    kt = lambda name, shape: {"class_name": "__keras_tensor__", "config": {"shape": [None] + shape, "dtype": "float32", "keras_history": [name, 0, 0]}}
    ent = lambda cls, name, cfg, args: {"module": "keras.layers", "class_name": cls, "registered_name": None, "name": name,
                                        "config": dict(cfg, name=name), "inbound_nodes": [{"args": args, "kwargs": {}}] if args is not None else []}
    layers = [ent("InputLayer", "a", {"batch_shape": [None, 4], "dtype": "float32"}, None),
              ent("InputLayer", "b", {"batch_shape": [None, 4], "dtype": "float32"}, None),
              ent("Add", "add", {}, [[kt("a", [4]), kt("b", [4])]]),
              ent("Dense", "dense", {"units": 2, "activation": "hard_sigmoid", "use_bias": True}, [kt("add", [4])])]
    cfg = {"module": "keras", "class_name": "Functional", "registered_name": "Functional",
           "config": {"name": "functional", "trainable": True, "layers": layers,
                      "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["dense", 0, 0]]}}
    y = np.clip(((a + b) @ k + bias) / 6 + 0.5, 0, 1)  # Keras 3 hard_sigmoid = relu6(x + 3) / 6
    path = os.path.join(out, "ref_keras3_functional.h5")
    save(out, "ref_keras3_functional", cfg, [("dense", [("dense/kernel", k), ("dense/bias", bias)])], {"a": a, "b": b}, y)
    with h5py.File(path, "a") as f:
        f.attrs["keras_version"] = b"3.6.0"
    return 1


def case_masked_attention(out):
    """Masks reaching Attention and MultiHeadAttention (Keras semantics): an Embedding with
    mask_zero=True gives (batch, time) masks; Attention lowers the scores of masked values by 1e9 and
    zeroes the outputs of masked query steps; MultiHeadAttention (tf.keras >= 2.10, Keras 3) lowers
    scores where query step i or value step j is masked (and j > i with use_causal_mask, a call
    argument), and an explicit attention_mask tensor masks the same way."""
    n = 0
    B, T, V, d = 2, 5, 7, 4
    ids = np.array([[3, 1, 4, 0, 0], [2, 6, 5, 1, 0]], np.float32)  # trailing zeros are padding
    emb = r(V, d, lo=-1, hi=1)
    e = emb[ids.astype(int)].astype(np.float64)
    keep = ids != 0
    big = 1e9

    def emb_layer():
        return {"class_name": "Embedding", "name": "emb", "inbound_nodes": [[["ids", 0, 0, {}]]],
                "config": {"name": "emb", "input_dim": V, "output_dim": d, "mask_zero": True}}

    # Attention, self-attention over the embedding, causal by the call argument.
    for causal in (False, True):
        sc = np.einsum("bqd,bvd->bqv", e, e)
        mask = np.broadcast_to(keep[:, None, :], sc.shape).copy()
        if causal:
            mask &= np.tril(np.ones((T, T), bool))[None]
        sc = (sc.astype(np.float32) - np.float32(big) * (~mask).astype(np.float32)).astype(np.float64)
        y = np.einsum("bqv,bvd->bqd", softmax(sc), e) * keep[:, :, None]
        kw = {"use_causal_mask": True} if causal else {}
        layers = [inp("ids", (T,)), emb_layer(),
                  {"class_name": "Attention", "name": "att", "config": {"name": "att", "use_scale": False, "score_mode": "dot"},
                   "inbound_nodes": [[["emb", 0, 0, kw], ["emb", 0, 0, kw]]]}]
        save(out, "ref_attention_masked_causal%d" % causal, functional(layers, ["ids"], ["att"]),
             [("ids", []), ("emb", [("emb/embeddings:0", emb)]), ("att", [])], {"ids": ids}, y)
        n += 1

    # MultiHeadAttention: implicit masks (keras 2.15), use_causal_mask, and an explicit attention_mask.
    heads, kd = 2, 3
    W = dict(qk=r(d, heads, kd), qb=r(heads, kd), kk=r(d, heads, kd), kb=r(heads, kd), vk=r(d, heads, kd),
             vb=r(heads, kd), ok=r(heads, kd, d), ob=r(d))
    names = ["query/kernel:0", "query/bias:0", "key/kernel:0", "key/bias:0", "value/kernel:0", "value/bias:0",
             "attention_output/kernel:0", "attention_output/bias:0"]
    ws = [("mha/" + nm, W[k]) for nm, k in zip(names, ["qk", "qb", "kk", "kb", "vk", "vb", "ok", "ob"])]
    cfg = {"name": "mha", "num_heads": heads, "key_dim": kd, "value_dim": kd, "dropout": 0.0, "use_bias": True,
           "output_shape": None, "attention_axes": [1]}
    explicit = (r(B, T, T, lo=0, hi=1) > 0.3).astype(np.float32)
    for variant in ("implicit", "causal", "explicit", "ignored_before_2_10"):
        Q = np.einsum("btd,dhk->bthk", e, W["qk"]) + W["qb"]
        K = np.einsum("btd,dhk->bthk", e, W["kk"]) + W["kb"]
        Vv = np.einsum("btd,dhk->bthk", e, W["vk"]) + W["vb"]
        sc = np.einsum("bqhk,bvhk->bhqv", Q / np.sqrt(kd), K)
        mask = keep[:, :, None] & keep[:, None, :]
        if variant == "ignored_before_2_10":  # tf.keras before 2.10 did not pass masks into the layer
            mask = np.ones((B, T, T), bool)
        if variant == "causal":
            mask = mask & np.tril(np.ones((T, T), bool))[None]
        if variant == "explicit":
            mask = mask & (explicit != 0)
        # In float32, as Keras adds it: for a fully masked query step every score becomes -1e9
        # (float32 cannot hold -1e9 + s), so its softmax is uniform.
        sc = sc.astype(np.float32) + np.float32(-big) * (~mask[:, None]).astype(np.float32)
        ctx = np.einsum("bhqv,bvhk->bqhk", softmax(sc.astype(np.float64)), Vv)
        y = np.einsum("bqhk,hko->bqo", ctx, W["ok"]) + W["ob"]
        kw = {"value": ["emb", 0, 0]}
        layers = [inp("ids", (T,)), emb_layer()]
        inputs = {"ids": ids}
        if variant == "causal":
            kw["use_causal_mask"] = True
        if variant == "explicit":
            layers.append(inp("am", (T, T)))
            kw["attention_mask"] = ["am", 0, 0]
            inputs["am"] = explicit
        layers.append({"class_name": "MultiHeadAttention", "name": "mha", "config": cfg,
                       "inbound_nodes": [[["emb", 0, 0, kw]]]})
        config = functional(layers, list(inputs), ["mha"])
        if variant == "ignored_before_2_10":
            config["keras_version"] = "2.9.0"
        save(out, "ref_mha_masked_" + variant, config,
             [(l["name"], []) for l in layers if l["name"] not in ("emb", "mha")] +
             [("emb", [("emb/embeddings:0", emb)]), ("mha", ws)], inputs, y)
        if variant == "ignored_before_2_10":
            with h5py.File(os.path.join(out, "ref_mha_masked_" + variant + ".h5"), "a") as f:
                f.attrs["keras_version"] = b"2.9.0"
        n += 1
    return n


def hard_sigmoid(z):
    return np.clip(0.2 * z + 0.5, 0.0, 1.0)


def conv_nd(x, w, strides, dilation, padding):
    """Keras/TF convolution of channels_last x (B, dims..., C) with w (k..., C, F), by summing one
    strided slice per kernel tap; "same" pads like TF (the extra cell after)."""
    rank = w.ndim - 2
    dims = x.shape[1:-1]
    pads, outs = [], []
    for i in range(rank):
        keff = (w.shape[i] - 1) * dilation[i] + 1
        if padding == "same":
            o = -(-dims[i] // strides[i])
            total = max((o - 1) * strides[i] + keff - dims[i], 0)
            pads.append((total // 2, total - total // 2))
        else:
            o = (dims[i] - keff) // strides[i] + 1
            pads.append((0, 0))
        outs.append(o)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    y = np.zeros((x.shape[0],) + tuple(outs) + (w.shape[-1],), np.float64)
    for tap in np.ndindex(*w.shape[:rank]):
        sl = tuple(slice(tap[i] * dilation[i], tap[i] * dilation[i] + (outs[i] - 1) * strides[i] + 1, strides[i])
                   for i in range(rank))
        y += np.tensordot(xp[(slice(None),) + sl], w[tap], axes=([rank + 1], [0]))
    return y


def conv_lstm(x, kernel, rec, bias, strides, dilation, padding, rec_act, go_backwards=False,
              return_sequences=False, channels_first=False):
    """ConvLSTMCell over x (B, T, dims..., C): gates i, f, c, o; the recurrent convolution has
    stride 1, "same" padding and no dilation. Returns (output, h, c) channels_last."""
    rank = kernel.ndim - 2
    if channels_first:
        x = np.moveaxis(x, 2, -1)
    F = kernel.shape[-1] // 4
    T = x.shape[1]
    h = c = None
    seq = []
    for step in range(T):
        t = T - 1 - step if go_backwards else step
        z = conv_nd(x[:, t].astype(np.float64), kernel, strides, dilation, padding)
        if bias is not None:
            z = z + bias
        if h is None:
            h = np.zeros(z.shape[:-1] + (F,))
            c = np.zeros_like(h)
        z = z + conv_nd(h, rec, [1] * rank, [1] * rank, "same")
        i, f, g, o = (z[..., j * F:(j + 1) * F] for j in range(4))
        c = rec_act(f) * c + rec_act(i) * np.tanh(g)
        h = rec_act(o) * np.tanh(c)
        seq.append(h)
    y = np.stack(seq, axis=1) if return_sequences else h
    if channels_first:
        y, h, c = np.moveaxis(y, -1, 2 if return_sequences else 1), np.moveaxis(h, -1, 1), np.moveaxis(c, -1, 1)
    return y, h, c


def case_conv_lstm(out):
    """ConvLSTM1D/2D/3D with options tfjs's convLstm2d lacks (channels_first, 1D/3D, return_state,
    sigmoid gates), and the real tf.keras 2.2.4 ConvLSTM2D model of the corpus."""
    n = 0

    def layer(cls, name, filters, k, strides, dil, padding, rec_act, **flags):
        cfg = {"name": name, "filters": filters, "kernel_size": k, "strides": strides, "dilation_rate": dil,
               "padding": padding, "data_format": "channels_first" if flags.get("channels_first") else "channels_last",
               "activation": "tanh", "recurrent_activation": rec_act, "use_bias": True,
               "return_sequences": flags.get("return_sequences", False), "return_state": flags.get("return_state", False),
               "go_backwards": flags.get("go_backwards", False)}
        return {"class_name": cls, "name": name, "config": cfg, "inbound_nodes": [[["x", 0, 0, {}]]]}

    specs = [  # name, class, input shape (T, ...), filters, kernel, strides, dilation, padding, gates, flags
        ("ref_convlstm2d_state", "ConvLSTM2D", (4, 5, 6, 3), 2, [3, 3], [1, 1], [1, 1], "same", "sigmoid",
         {"return_sequences": True, "return_state": True}),
        ("ref_convlstm1d_dilated_backwards", "ConvLSTM1D", (5, 9, 2), 3, [3], [1], [2], "same", "hard_sigmoid",
         {"return_sequences": True, "go_backwards": True}),
        ("ref_convlstm3d_channels_first", "ConvLSTM3D", (3, 2, 4, 5, 4), 2, [2, 2, 3], [1, 2, 1], [1, 1, 1], "valid",
         "sigmoid", {"channels_first": True}),
    ]
    for name, cls, shape, F, k, strides, dil, padding, gates, flags in specs:
        x = r(2, *shape, lo=-1, hi=1)
        C = shape[1] if flags.get("channels_first") else shape[-1]
        kernel, rec, bias = r(*k, C, 4 * F), r(*k, F, 4 * F), r(4 * F)
        act = sigmoid if gates == "sigmoid" else hard_sigmoid
        y, h, c = conv_lstm(x, kernel, rec, bias, strides, dil, padding, act, flags.get("go_backwards", False),
                            flags.get("return_sequences", False), flags.get("channels_first", False))
        outs = [("cl", 0, 0)] + ([("cl", 0, 1), ("cl", 0, 2)] if flags.get("return_state") else [])
        config = functional([inp("x", shape), layer(cls, "cl", F, k, strides, dil, padding, gates, **flags)], ["x"], [])
        config["config"]["output_layers"] = [list(o) for o in outs]
        write_h5(os.path.join(out, name + ".h5"), config,
                 [("x", []), ("cl", [("cl/kernel:0", kernel), ("cl/recurrent_kernel:0", rec), ("cl/bias:0", bias)])])
        np.savez(os.path.join(out, name + ".in.npz"), x=x)
        for i, want in enumerate([y, h, c][:len(outs)]):
            np.save(os.path.join(out, "%s.want%d.npy" % (name, i)), want.astype(np.float32))
        n += 1

    # The corpus model: two channels_first ConvLSTM2D layers (go_backwards, return_sequences,
    # hard_sigmoid) with the weights tf.keras trained; the reference runs them from the file.
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata", "h5",
                       "dl4j_tfkeras_convlstm2d_1__convlstm2d_1.h5")
    name = "ref_convlstm2d_corpus"
    with h5py.File(src, "r") as f:
        config = json.loads(f.attrs["model_config"])
        y = r(2, 3, 4, 10, 10, lo=-1, hi=1)
        np.savez(os.path.join(out, name + ".in.npz"), input_2=y)
        for lc in config["config"]["layers"][1:]:
            cfg, g = lc["config"], f["model_weights"][lc["name"]][lc["name"]]
            assert lc["class_name"] == "ConvLSTM2D" and cfg["activation"] == "tanh" and cfg["recurrent_activation"] == "hard_sigmoid"
            y, _, _ = conv_lstm(y, g["kernel:0"][()], g["recurrent_kernel:0"][()], g["bias:0"][()], cfg["strides"],
                                cfg["dilation_rate"], cfg["padding"], hard_sigmoid, cfg["go_backwards"],
                                cfg["return_sequences"], cfg["data_format"] == "channels_first")
    with open(src, "rb") as a, open(os.path.join(out, name + ".h5"), "wb") as b:
        b.write(a.read())
    np.save(os.path.join(out, name + ".want0.npy"), y.astype(np.float32))
    return n + 1


def case_tf_ops(out):
    """tf.keras TF-op layers (TFOpLambda / SlicingOpLambda) as tf.keras >= 2.4 serializes them: the
    node of a single-tensor call is the entry itself ([layer, 0, 0, kwargs], not wrapped in a list),
    kwargs hold constants or [layer, node, tensor] links, a constant first argument is
    ["_CONSTANT_VALUE", -1, value, kwargs], a list first argument is several entries, slices are
    {start, stop, step} dicts with "__ellipsis__" / "__tuple__" objects and null for newaxis."""
    def op(name, function, node, cls="TFOpLambda"):
        return {"class_name": cls, "name": name, "inbound_nodes": [node],
                "config": {"name": name, "trainable": True, "dtype": "float32", "function": function}}

    def t(layer, kwargs=None):  # a single-tensor node
        return [layer, 0, 0, kwargs if kwargs is not None else {}]

    n = 0
    # The transfer-learning preprocessing (MobileNetV2 preprocess_input: x / 127.5 - 1) before a Dense.
    x = r(3, 5, lo=0, hi=255)
    k, b = r(5, 2), r(2)
    layers = [inp("image", (5,)),
              op("tf.math.truediv", "math.truediv", t("image", {"y": 127.5, "name": None})),
              op("tf.math.subtract", "math.subtract", t("tf.math.truediv", {"y": 1.0, "name": None})),
              {"class_name": "Dense", "name": "dense", "inbound_nodes": [[["tf.math.subtract", 0, 0, {}]]],
               "config": {"name": "dense", "units": 2, "activation": "linear", "use_bias": True}}]
    # As Keras writes it, layer_names lists every layer, weightless ones included.
    save(out, "ref_tfop_preprocess", functional(layers, ["image"], ["dense"]),
         [(l["name"], []) for l in layers[:3]] + [("dense", [("dense/kernel:0", k), ("dense/bias:0", b)])],
         {"image": x}, (x / 127.5 - 1.0) @ k + b)
    n += 1

    # Element-wise, reductions, shapes, indexing: one model, many outputs.
    a, c = r(2, 3, 4, lo=-2, hi=2), r(2, 3, 4, lo=0.5, hi=2)
    m = r(2, 5, 4)
    specs = [  # (name, function, node, class, numpy result)
        ("add_t", "__operators__.add", t("a", {"y": ["c", 0, 0], "name": None}), None, a + c),
        ("mul_bcast", "math.multiply", t("a", {"y": [1.0, -2.0, 0.5, 3.0]}), None, a * np.array([1.0, -2.0, 0.5, 3.0])),
        ("rsub_const", "math.subtract", ["_CONSTANT_VALUE", -1, 1.0, {"y": ["a", 0, 0], "name": None}], None, 1.0 - a),
        ("pow", "math.pow", t("c", {"y": 1.5, "name": None}), None, c ** 1.5),
        ("max_t", "math.maximum", t("a", {"y": ["c", 0, 0], "name": None}), None, np.maximum(a, c)),
        ("sqrt", "math.sqrt", t("c", {"name": None}), None, np.sqrt(c)),
        ("relu", "nn.relu", t("a", {"name": None}), None, np.maximum(a, 0)),
        ("leaky", "nn.leaky_relu", t("a", {"alpha": 0.1, "name": None}), None, np.where(a < 0, 0.1 * a, a)),
        ("gelu_tanh", "nn.gelu", t("a", {"approximate": True, "name": None}), None,
         0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a ** 3)))),
        ("clip", "clip_by_value", t("a", {"clip_value_min": -0.5, "clip_value_max": 0.7, "name": None}), None, np.clip(a, -0.5, 0.7)),
        ("cast_int", "cast", t("a", {"dtype": "int32", "name": None}), None, np.trunc(a)),
        ("mean_keep", "math.reduce_mean", t("a", {"axis": 1, "keepdims": True, "name": None}), None, a.mean(axis=1, keepdims=True)),
        ("max_axes", "math.reduce_max", t("a", {"axis": [1, 2], "name": None}), None, a.max(axis=(1, 2))),
        ("softmax1", "nn.softmax", t("a", {"axis": 1, "name": None}), None, softmax(a, axis=1)),
        ("l2n", "math.l2_normalize", t("a", {"axis": -1, "name": None}), None,
         a / np.sqrt(np.maximum((a * a).sum(-1, keepdims=True), 1e-12))),
        ("argmax", "math.argmax", t("a", {"axis": -1, "name": None}), None, a.argmax(-1).astype(np.float32)),
        ("reshape", "reshape", t("a", {"shape": [-1, 12], "name": None}), None, a.reshape(-1, 12)),
        ("expand", "expand_dims", t("a", {"axis": 1}), None, a[:, None]),
        ("transpose", "compat.v1.transpose", t("a", {"perm": [0, 2, 1], "name": None}), None, a.transpose(0, 2, 1)),
        ("concat", "concat", [["a", 0, 0, {"axis": -1, "name": None}], ["c", 0, 0, {"axis": -1, "name": None}]], None,
         np.concatenate([a, c], axis=-1)),
        ("stack", "stack", [["a", 0, 0, {"axis": 1}], ["c", 0, 0, {"axis": 1}]], None, np.stack([a, c], axis=1)),
        ("tile", "tile", t("a", {"multiples": [1, 2, 1], "name": None}), None, np.tile(a, (1, 2, 1))),
        ("pad", "pad", t("a", {"paddings": [[0, 0], [1, 0], [0, 2]], "constant_values": 0.5, "name": None}), None,
         np.pad(a, [(0, 0), (1, 0), (0, 2)], constant_values=0.5)),
        ("matmul", "linalg.matmul", t("a", {"b": ["m", 0, 0], "transpose_b": True, "name": None}), None, a @ m.transpose(0, 2, 1)),
        ("slice_rev", "__operators__.getitem",
         t("a", {"slice_spec": [{"start": None, "stop": None, "step": None}, {"start": 1, "stop": None, "step": None},
                                {"start": None, "stop": None, "step": -2}]}), "SlicingOpLambda", a[:, 1:, ::-2]),
        ("slice_last", "__operators__.getitem",
         t("a", {"slice_spec": {"class_name": "__tuple__", "items": [{"class_name": "__ellipsis__"}, 0]}}), "SlicingOpLambda",
         a[..., 0]),
        ("slice_newaxis", "__operators__.getitem",
         t("a", {"slice_spec": [{"start": None, "stop": None, "step": None}, None, -1]}), "SlicingOpLambda", a[:, None, -1]),
    ]
    layers = [inp("a", (3, 4)), inp("c", (3, 4)), inp("m", (5, 4))]
    for name, function, node, cls, _ in specs:
        layers.append(op(name, function, node, cls or "TFOpLambda"))
    config = functional(layers, ["a", "c", "m"], [s[0] for s in specs])
    path = os.path.join(out, "ref_tfop_many.h5")
    write_h5(path, config, [(l["name"], []) for l in layers])
    np.savez(os.path.join(out, "ref_tfop_many.in.npz"), a=a, c=c, m=m)
    for i, spec in enumerate(specs):
        np.save(os.path.join(out, "ref_tfop_many.want%02d.npy" % i), np.asarray(spec[4], np.float32))
    return n + 1


def tf_resize(img, out_h, out_w, method, box=None):
    """tf.image.resize as TF 2 does it (half-pixel centers, no antialias) of img (B, H, W, C), or of
    its window box = (top, left, height, width), gathered one output pixel at a time. Source
    positions are float32, as in TensorFlow."""
    B, H, W, C = img.shape
    top, left, h, w = box if box else (0, 0, H, W)
    f32, half = np.float32, np.float32(0.5)
    sy, sx = f32(h) / f32(out_h), f32(w) / f32(out_w)
    win = img[:, top:top + h, left:left + w].astype(np.float64)
    out = np.zeros((B, out_h, out_w, C))
    for oy in range(out_h):
        for ox in range(out_w):
            if method == "nearest":
                iy = min(int(np.floor((f32(oy) + half) * sy)), h - 1)
                ix = min(int(np.floor((f32(ox) + half) * sx)), w - 1)
                out[:, oy, ox] = win[:, iy, ix]
                continue
            fy, fx = (f32(oy) + half) * sy - half, (f32(ox) + half) * sx - half
            y0, x0 = int(np.floor(fy)), int(np.floor(fx))
            wy, wx = float(fy) - y0, float(fx) - x0
            acc = 0.0
            for yy, ky in ((y0, 1 - wy), (y0 + 1, wy)):
                for xx, kx in ((x0, 1 - wx), (x0 + 1, wx)):
                    acc = acc + ky * kx * win[:, min(max(yy, 0), h - 1), min(max(xx, 0), w - 1)]
            out[:, oy, ox] = acc
    return out


def smart_resize_box(H, W, th, tw):
    """Keras smart_resize: the centered window of the target's aspect ratio (top, left, h, w)."""
    ch = max(min(H, int(W * th / tw)), 1)
    cw = max(min(W, int(H * tw / th)), 1)
    return int((H - ch) / 2), int((W - cw) / 2), ch, cw


def case_preprocessing(out):
    """Resizing / CenterCrop / bilinear UpSampling2D against the TF 2 resize reference above, and
    augmentation layers that are the identity at inference (TensorFlow.js's resize uses align_corners,
    so it is no reference here)."""
    n = 0

    def one(name, shape, layers, want_fn, lo=-1, hi=1):
        nonlocal n
        x = r(2, *shape, lo=lo, hi=hi)
        save(out, name, sequential(shape, layers), [], {"x": x}, want_fn(x))
        n += 1

    def resizing(h, w, interp, crop=False, **extra):
        cfg = dict({"name": "resize", "height": h, "width": w, "interpolation": interp, "crop_to_aspect_ratio": crop}, **extra)
        return {"class_name": "Resizing", "config": cfg}

    one("ref_resizing_bilinear_down", (7, 9, 3), [resizing(4, 5, "bilinear")],
        lambda x: tf_resize(x, 4, 5, "bilinear"))
    one("ref_resizing_bilinear_up", (3, 5, 2), [resizing(7, 8, "bilinear")],
        lambda x: tf_resize(x, 7, 8, "bilinear"))
    one("ref_resizing_nearest", (6, 7, 3), [resizing(9, 4, "nearest")],
        lambda x: tf_resize(x, 9, 4, "nearest"))
    one("ref_resizing_nearest_channels_first", (3, 5, 7), [resizing(3, 11, "nearest", data_format="channels_first")],
        lambda x: np.moveaxis(tf_resize(np.moveaxis(x, 1, -1), 3, 11, "nearest"), -1, 1))
    one("ref_resizing_crop_to_aspect_ratio", (6, 10, 2), [resizing(5, 4, "bilinear", True)],
        lambda x: tf_resize(x, 5, 4, "bilinear", smart_resize_box(6, 10, 5, 4)))
    center = lambda h, w: {"class_name": "CenterCrop", "config": {"name": "cc", "height": h, "width": w}}
    one("ref_center_crop", (7, 8, 3), [center(4, 5)], lambda x: x[:, 1:5, 1:6])
    one("ref_center_crop_upsize", (4, 6, 2), [center(6, 5)],
        lambda x: tf_resize(x, 6, 5, "bilinear", smart_resize_box(4, 6, 6, 5)))
    one("ref_upsampling2d_bilinear", (3, 4, 2),
        [{"class_name": "UpSampling2D", "config": {"name": "up", "size": [2, 3], "data_format": "channels_last",
                                                   "interpolation": "bilinear"}}],
        lambda x: tf_resize(x, 6, 12, "bilinear"))

    # The TF image-classification tutorial: augmentation, Rescaling(1/255), Conv2D, pooling, Dense.
    # At inference the augmentation is the identity, so the reference runs the model without it.
    seedless = {"seed": None, "trainable": True, "dtype": "float32"}
    aug = [{"class_name": "RandomFlip", "config": dict(seedless, name="flip", mode="horizontal")},
           {"class_name": "RandomRotation", "config": dict(seedless, name="rot", factor=0.1, fill_mode="reflect",
                                                           interpolation="bilinear", fill_value=0.0)},
           {"class_name": "RandomZoom", "config": dict(seedless, name="zoom", height_factor=0.1, width_factor=None,
                                                       fill_mode="reflect", interpolation="bilinear", fill_value=0.0)}]
    x = r(2, 8, 8, 3, lo=0, hi=255)
    k, b, dk, db = r(3, 3, 3, 4), r(4), r(64, 3), r(3)
    feat = np.maximum(conv_nd(x.astype(np.float64) / 255.0, k, [1, 1], [1, 1], "same") + b, 0)
    pooled = feat.reshape(2, 4, 2, 4, 2, 4).max(axis=(2, 4))
    y = pooled.reshape(2, -1) @ dk + db
    rest = [{"class_name": "Rescaling", "config": {"name": "rs", "scale": 1 / 255.0, "offset": 0.0}},
            {"class_name": "Conv2D", "config": {"name": "conv", "filters": 4, "kernel_size": [3, 3], "strides": [1, 1],
                                                "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1],
                                                "groups": 1, "activation": "relu", "use_bias": True}},
            {"class_name": "MaxPooling2D", "config": {"name": "pool", "pool_size": [2, 2], "strides": [2, 2], "padding": "valid"}},
            {"class_name": "Flatten", "config": {"name": "flat"}},
            {"class_name": "Dense", "config": {"name": "dense", "units": 3, "activation": "linear", "use_bias": True}}]
    data_aug = {"class_name": "Sequential", "config": {"name": "data_augmentation", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 8, 8, 3], "name": "aug_in"}}] + aug}}
    save(out, "ref_augmentation_tutorial", sequential((8, 8, 3), [data_aug] + rest),
         [("conv", [("conv/kernel:0", k), ("conv/bias:0", b)]), ("dense", [("dense/kernel:0", dk), ("dense/bias:0", db)])],
         {"x": x}, y)
    n += 1
    # The other inference-identity augmentations, and RandomCrop of an input of its target size.
    others = [{"class_name": c, "config": dict(seedless, name=c.lower(), **cfg)} for c, cfg in [
        ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.2, "fill_mode": "reflect"}),
        ("RandomContrast", {"factor": 0.3}), ("RandomBrightness", {"factor": 0.2, "value_range": [0, 255]}),
        ("RandomHeight", {"factor": 0.2, "interpolation": "bilinear"}),
        ("RandomWidth", {"factor": 0.2, "interpolation": "bilinear"}), ("RandomCrop", {"height": 5, "width": 6}),
        ("Rescaling", {"scale": 2.0, "offset": -1.0})]]
    one("ref_augmentation_identities", (5, 6, 2), others, lambda x: x * 2.0 - 1.0)
    return n


def main(out):
    os.makedirs(out, exist_ok=True)
    n = 0
    for heads, kd, vd in [(1, 4, 4), (2, 3, 5), (4, 2, 2)]:
        for self_att in (True, False):
            case_mha(out, heads, kd, vd, self_att)
            n += 1
    for s in (False, True):
        case_attention(out, s)
        n += 1
    for gb in (False, True):
        case_gru_reset_after(out, gb)
        n += 1
    case_causal_conv1d(out)
    case_subtract_crop_up(out)
    case_bn_axis1(out)
    n += 3 + case_misc(out) + case_keras3_functional(out) + case_conv_lstm(out) + case_preprocessing(out) + case_tf_ops(out)
    n += case_masked_attention(out)
    print("reference cases written: %d" % n)


if __name__ == "__main__":
    main(sys.argv[1])
