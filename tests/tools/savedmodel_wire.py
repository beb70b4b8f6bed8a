#!/usr/bin/python3
"""Independent SavedModel decoder for kmodel's tests (no TensorFlow, no protobuf library, no kmodel code).

Decodes saved_model.pb with a hand-written protobuf wire decoder, following the field numbers of
FORMATS.md C.2/C.4 (not the .proto files kmodel compiles), plus keras_metadata.pb and fingerprint.pb.
Prints one JSON document:

  {"schema_version": N,
   "meta_graphs": [{"tags": [...], "tensorflow_version": "...",
                    "signatures": [{"key", "method_name",
                                    "inputs"/"outputs": [{"key", "dtype", "shape", "name"}]}]}],
   "object_graph": {"nodes": N, "kinds": {kind: count}, "variables": [[id, name, dtype, shape, trainable]],
                    "children": [[[local_name, id], ...] per node], "identifiers": [per node]},
   "keras_metadata": [[node_id, node_path, identifier], ...] | null,
   "keras_metadata_json": {node_id: metadata JSON text} (keras_metadata.pb only),
   "root_metadata": the root object's Keras metadata JSON text (keras_metadata.pb, else the TF <= 2.4
                    SavedUserObject.metadata of node 0) | null,
   "fingerprint": {field: value} | null}

dtype is printed "DT_<NAME>" and shape like saved_model_cli ("(-1, 2)", "()", "unknown_rank").
Usage: savedmodel_wire.py DIR
"""
import json
import os
import struct
import sys

DT = {0: "INVALID", 1: "FLOAT", 2: "DOUBLE", 3: "INT32", 4: "UINT8", 5: "INT16", 6: "INT8", 7: "STRING",
      8: "COMPLEX64", 9: "INT64", 10: "BOOL", 11: "QINT8", 12: "QUINT8", 13: "QINT32", 14: "BFLOAT16",
      15: "QINT16", 16: "QUINT16", 17: "UINT16", 18: "COMPLEX128", 19: "HALF", 20: "RESOURCE", 21: "VARIANT",
      22: "UINT32", 23: "UINT64"}
KINDS = {4: "user_object", 5: "asset", 6: "function", 7: "variable", 8: "bare_concrete_function",
         9: "constant", 10: "resource", 12: "captured_tensor"}


def dt_name(v):
    if v >= 100 and v - 100 in DT:
        return "DT_" + DT[v - 100] + "_REF"
    return "DT_" + DT.get(v, str(v))


def varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def fields(buf):
    pos = 0
    while pos < len(buf):
        tag, pos = varint(buf, pos)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            v, pos = varint(buf, pos)
        elif wt == 1:
            v = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wt == 2:
            n, pos = varint(buf, pos)
            v = bytes(buf[pos:pos + n])
            if len(v) != n:
                raise ValueError("truncated")
            pos += n
        elif wt == 5:
            v = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise ValueError("bad wire type %d" % wt)
        yield num, wt, v


def signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def shape_str(buf):
    dims, unknown = [], False
    for n, _, v in fields(buf):
        if n == 2:
            size = 0
            for dn, _, dv in fields(v):
                if dn == 1:
                    size = signed(dv)
            dims.append(size)
        elif n == 3:
            unknown = bool(v)
    if unknown:
        return "unknown_rank"
    return "(" + ", ".join(str(d) for d in dims) + ")"


def tensor_info(buf):
    out = {"dtype": dt_name(0), "shape": "()", "name": ""}
    has_shape = False
    for n, _, v in fields(buf):
        if n == 1:
            out["name"] = v.decode()
        elif n == 2:
            out["dtype"] = dt_name(v)
        elif n == 3:
            out["shape"] = shape_str(v)
            has_shape = True
    if not has_shape:
        out["shape"] = "()"
    return out


def map_entries(buf):
    key, val = "", b""
    for n, _, v in fields(buf):
        if n == 1:
            key = v.decode()
        elif n == 2:
            val = v
    return key, val


def signature(key, buf):
    sig = {"key": key, "method_name": "", "inputs": [], "outputs": []}
    for n, _, v in fields(buf):
        if n in (1, 2):
            k, ti = map_entries(v)
            e = tensor_info(ti)
            e["key"] = k
            sig["inputs" if n == 1 else "outputs"].append(e)
        elif n == 3:
            sig["method_name"] = v.decode()
    for part in ("inputs", "outputs"):
        sig[part].sort(key=lambda e: e["key"])
    return sig


def object_graph(buf):
    nodes = [v for n, _, v in fields(buf) if n == 1]
    og = {"nodes": len(nodes), "kinds": {}, "node_kinds": [], "variables": [], "children": [], "identifiers": [],
          "user_metadata": []}
    for i, node in enumerate(nodes):
        children, kind, ident = [], "unknown", ""
        for n, _, v in fields(node):
            if n == 1:
                nid, name = 0, ""
                for cn, _, cv in fields(v):
                    if cn == 1:
                        nid = cv
                    elif cn == 2:
                        name = cv.decode()
                children.append([name, nid])
            elif n in KINDS:
                kind = KINDS[n]
                if n == 4:
                    for un, _, uv in fields(v):
                        if un == 1:
                            ident = uv.decode()
                        elif un == 3 and i == 0:
                            og["user_metadata"].append(uv.decode())
                elif n == 7:
                    name, dtype, shape, trainable = "", 0, "()", False
                    for vn, _, vv in fields(v):
                        if vn == 1:
                            dtype = vv
                        elif vn == 2:
                            shape = shape_str(vv)
                        elif vn == 3:
                            trainable = bool(vv)
                        elif vn == 6:
                            name = vv.decode()
                    ident = name
                    og["variables"].append([i, name, dt_name(dtype), shape, trainable])
        og["kinds"][kind] = og["kinds"].get(kind, 0) + 1
        og["node_kinds"].append(kind)
        og["children"].append(children)
        og["identifiers"].append(ident)
    return og


def main(argv):
    d = argv[1]
    buf = open(os.path.join(d, "saved_model.pb"), "rb").read()
    out = {"schema_version": 0, "meta_graphs": [], "object_graph": None, "keras_metadata": None,
           "root_metadata": None, "fingerprint": None}
    for n, _, v in fields(buf):
        if n == 1:
            out["schema_version"] = v
        elif n == 2:
            mg = {"tags": [], "tensorflow_version": "", "signatures": []}
            for mn, _, mv in fields(v):
                if mn == 1:
                    for fn, _, fv in fields(mv):
                        if fn == 4:
                            mg["tags"].append(fv.decode())
                        elif fn == 5:
                            mg["tensorflow_version"] = fv.decode()
                elif mn == 5:
                    k, sv = map_entries(mv)
                    mg["signatures"].append(signature(k, sv))
                elif mn == 7 and out["object_graph"] is None:
                    out["object_graph"] = object_graph(mv)
            mg["signatures"].sort(key=lambda s: s["key"])
            out["meta_graphs"].append(mg)
    km = os.path.join(d, "keras_metadata.pb")
    if os.path.exists(km):
        out["keras_metadata"] = []
        out["keras_metadata_json"] = {}
        for n, _, v in fields(open(km, "rb").read()):
            if n == 1:
                nid, path, ident, meta = 0, "", "", ""
                for kn, _, kv in fields(v):
                    if kn == 2:
                        nid = kv
                    elif kn == 3:
                        path = kv.decode()
                    elif kn == 4:
                        ident = kv.decode()
                    elif kn == 5:
                        meta = kv.decode()
                if nid == 0:
                    out["root_metadata"] = meta
                out["keras_metadata"].append([nid, path, ident])
                out["keras_metadata_json"][str(nid)] = meta
    if out["root_metadata"] is None and out["object_graph"] and out["object_graph"]["user_metadata"]:
        out["root_metadata"] = out["object_graph"]["user_metadata"][0]
    fp = os.path.join(d, "fingerprint.pb")
    if os.path.exists(fp):
        names = {1: "saved_model_checksum", 2: "graph_def_program_hash", 3: "signature_def_hash",
                 4: "saved_object_graph_hash", 5: "checkpoint_hash"}
        out["fingerprint"] = {}
        for n, _, v in fields(open(fp, "rb").read()):
            if n in names:
                out["fingerprint"][names[n]] = str(v)
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
