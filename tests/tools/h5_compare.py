#!/usr/bin/python3
"""Independent check (h5py, no kmodel code) that two Keras H5 files hold the same model.

Compares root attribute values, layer order (layer_names, chunked or not), each layer's weight order
(weight_names), and every listed dataset's dtype, shape and bytes; optimizer_weights and
top_level_model_weights too. Prints what differs and exits 1; exits 0 when equal.
usage: h5_compare.py A.h5 B.h5 [--weights-only-b]
"""
import sys

import h5py
import numpy as np


def text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.shape == ():
        return text(v[()])
    return v


def str_list(obj, name):
    """Keras' load_attributes_from_hdf5_group: name or name0, name1, ...; [] for empty float arrays."""
    if name in obj.attrs:
        vals = obj.attrs[name]
    elif name + "0" in obj.attrs:
        vals, i = [], 0
        while f"{name}{i}" in obj.attrs:
            vals.extend(obj.attrs[f"{name}{i}"])
            i += 1
    else:
        return None
    out = []
    for v in vals:
        if isinstance(v, (bytes, np.bytes_)):
            v = bytes(v).rstrip(b"\0").decode("utf-8")
        elif isinstance(v, (float, np.floating)):
            raise ValueError(f"non-string item in {name}")
        out.append(str(v))
    return out


def weights_group(f):
    if "layer_names" in f.attrs or "layer_names0" in f.attrs:
        return f
    return f["model_weights"]


def compare_weight_group(ga, gb, where, errors):
    na, nb = str_list(ga, "weight_names") or [], str_list(gb, "weight_names") or []
    if na != nb:
        errors.append(f"{where}: weight_names differ: {na} vs {nb}")
        return 0
    n = 0
    for name in na:
        da, db = ga[name], gb[name]
        if da.dtype != db.dtype or da.shape != db.shape:
            errors.append(f"{where}/{name}: {da.dtype}{da.shape} vs {db.dtype}{db.shape}")
            continue
        if da[()].tobytes() != db[()].tobytes():
            errors.append(f"{where}/{name}: bytes differ")
        n += 1
    return n


def compare(a_path, b_path, weights_only_b):
    """Returns the list of differences between two Keras H5 files."""
    errors = []
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        if not weights_only_b:
            for k in a.attrs:
                if k.startswith("layer_names"):
                    continue
                if k not in b.attrs:
                    errors.append(f"root attribute {k} missing")
                elif text(a.attrs[k]) != text(b.attrs[k]):
                    errors.append(f"root attribute {k} differs")
        wa, wb = weights_group(a), weights_group(b)
        for k in ("keras_version", "backend"):
            if k in wa.attrs and (k not in wb.attrs or text(wa.attrs[k]) != text(wb.attrs[k])):
                errors.append(f"weights group attribute {k} differs or is missing")
        la, lb = str_list(wa, "layer_names"), str_list(wb, "layer_names")
        if la != lb:
            errors.append(f"layer_names differ: {la} vs {lb}")
        count = 0
        for layer in la or []:
            count += compare_weight_group(wa[layer], wb[layer], layer, errors)
        for extra in ("top_level_model_weights",):
            if extra in wa and (extra in wb or str_list(wa[extra], "weight_names")):
                count += compare_weight_group(wa[extra], wb[extra], extra, errors)
        if "optimizer_weights" in a and not weights_only_b:
            if "optimizer_weights" not in b:
                errors.append("optimizer_weights missing")
            else:
                count += compare_weight_group(a["optimizer_weights"], b["optimizer_weights"], "optimizer_weights", errors)
    return [f"{b_path}: {e}" for e in errors], len(la or []), count


def main():
    """A.h5 B.h5 [--weights-only-b], or --batch LIST where LIST has lines "A B [weights-only]"."""
    if sys.argv[1] == "--batch":
        pairs = [line.split() for line in open(sys.argv[2]) if line.strip()]
    else:
        pairs = [[sys.argv[1], sys.argv[2]] + (["weights-only"] if "--weights-only-b" in sys.argv else [])]
    failed = 0
    for pair in pairs:
        errors, layers, count = compare(pair[0], pair[1], len(pair) > 2)
        for e in errors:
            print(e)
        failed += bool(errors)
    if failed:
        return 1
    print(f"equal: {len(pairs)} pair(s); last: {layers} layers, {count} datasets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
