#!/usr/bin/python3
"""Independent TensorBundle reader for kmodel's tests (no TensorFlow, no LevelDB, no protobuf library).

Parses a checkpoint's `.index` LevelDB table by hand (footer, index block, data blocks, Snappy blocks,
masked CRC32C block trailers), decodes BundleHeaderProto / BundleEntryProto / TrackableObjectGraph with
a hand-written protobuf wire decoder, reads every tensor from its data shard and verifies its masked
CRC32C (DT_STRING with the length-checksum rule). Prints one JSON document:

  {"num_shards": N, "entries": [{"key", "dtype", "shape", "shard", "offset", "size", "sha256",
                                  "values"?: [...]}, ...],             # sorted by key, header excluded
   "object_graph": [{"children": [[name, id]...], "attributes": [[name, full_name, key]...],
                     "slots": [[original, slot_name, slot_node]...]}, ...]   # when present

Usage: bundle_reader.py PREFIX [--values]      (exit 1 with a message on any corruption)
       bundle_reader.py --v1 FILE                 legacy V1 (TensorSliceWriter) table: name, dtype,
                                                  shape and values of every tensor
"""
import hashlib
import json
import os
import struct
import sys

MAGIC = 0xDB4775248B80FB57
DTYPES = {1: ("float32", "f", 4), 2: ("float64", "d", 8), 3: ("int32", "i", 4), 4: ("uint8", "B", 1),
          5: ("int16", "h", 2), 6: ("int8", "b", 1), 7: ("string", None, 0), 8: ("complex64", None, 8),
          9: ("int64", "q", 8), 10: ("bool", "?", 1), 14: ("bfloat16", None, 2), 17: ("uint16", "H", 2),
          18: ("complex128", None, 16), 19: ("float16", "e", 2), 22: ("uint32", "I", 4), 23: ("uint64", "Q", 8)}


class Corrupt(Exception):
    pass


# ---- CRC32C (Castagnoli), table driven -------------------------------------------------------------
_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def unmask(m):
    r = (m - 0xA282EAD8) & 0xFFFFFFFF
    return ((r >> 17) | (r << 15)) & 0xFFFFFFFF


# ---- varints / protobuf wire -----------------------------------------------------------------------
def varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise Corrupt("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise Corrupt("overlong varint")


def fields(buf):
    """Yields (field_number, wire_type, value) of a protobuf message."""
    pos = 0
    while pos < len(buf):
        tag, pos = varint(buf, pos)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            v, pos = varint(buf, pos)
        elif wt == 1:
            v = struct.unpack_from("Q", buf, pos)[0]
            pos += 8
        elif wt == 2:
            n, pos = varint(buf, pos)
            if pos + n > len(buf):
                raise Corrupt("truncated length-delimited field")
            v = buf[pos:pos + n]
            pos += n
        elif wt == 5:
            v = struct.unpack_from("I", buf, pos)[0]
            pos += 4
        else:
            raise Corrupt("bad wire type %d" % wt)
        yield num, wt, v


def signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def parse_shape(buf):
    dims = []
    for num, wt, v in fields(buf):
        if num == 2:
            size = 0
            for n2, _, v2 in fields(v):
                if n2 == 1:
                    size = signed64(v2)
            dims.append(size)
    return dims


def parse_entry(buf):
    e = {"dtype": 0, "shape": [], "shard": 0, "offset": 0, "size": 0, "crc": 0, "slices": 0}
    for num, wt, v in fields(buf):
        if num == 1:
            e["dtype"] = v
        elif num == 2:
            e["shape"] = parse_shape(v)
        elif num == 3:
            e["shard"] = v
        elif num == 4:
            e["offset"] = signed64(v)
        elif num == 5:
            e["size"] = signed64(v)
        elif num == 6:
            e["crc"] = v
        elif num == 7:
            e["slices"] += 1
    return e


def parse_graph(buf):
    nodes = []
    for num, wt, v in fields(buf):
        if num != 1:
            continue
        node = {"children": [], "attributes": [], "slots": []}
        for n2, _, v2 in fields(v):
            if n2 == 1:
                c = {1: 0, 2: b""}
                for n3, _, v3 in fields(v2):
                    c[n3] = v3
                node["children"].append([c[2].decode(), c[1]])
            elif n2 == 2:
                a = {1: b"", 2: b"", 3: b""}
                for n3, _, v3 in fields(v2):
                    a[n3] = v3
                node["attributes"].append([a[1].decode(), a[2].decode(), a[3].decode()])
            elif n2 == 3:
                s = {1: 0, 2: b"", 3: 0}
                for n3, _, v3 in fields(v2):
                    s[n3] = v3
                node["slots"].append([s[1], s[2].decode(), s[3]])
        nodes.append(node)
    return nodes


# ---- Snappy (raw format) ---------------------------------------------------------------------------
def snappy_decompress(buf):
    n, pos = varint(buf, 0)
    out = bytearray()
    while pos < len(buf):
        tag = buf[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:
            length = tag >> 2
            if length >= 60:
                nb = length - 59
                length = int.from_bytes(buf[pos:pos + nb], "little")
                pos += nb
            length += 1
            out += buf[pos:pos + length]
            pos += length
            continue
        if kind == 1:
            length = ((tag >> 2) & 7) + 4
            offset = ((tag >> 5) << 8) | buf[pos]
            pos += 1
        elif kind == 2:
            length = (tag >> 2) + 1
            offset = int.from_bytes(buf[pos:pos + 2], "little")
            pos += 2
        else:
            length = (tag >> 2) + 1
            offset = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        if offset == 0 or offset > len(out):
            raise Corrupt("bad snappy copy offset")
        for _ in range(length):
            out.append(out[-offset])
    if len(out) != n:
        raise Corrupt("snappy length mismatch")
    return bytes(out)


# ---- LevelDB table -----------------------------------------------------------------------------------
def read_block(data, offset, size, what):
    if offset + size + 5 > len(data):
        raise Corrupt("%s runs past the end of the table" % what)
    block = data[offset:offset + size]
    btype = data[offset + size]
    stored = struct.unpack_from("I", data, offset + size + 1)[0]
    if crc32c(data[offset:offset + size + 1]) != unmask(stored):
        raise Corrupt("%s: block checksum mismatch" % what)
    if btype == 1:
        block = snappy_decompress(block)
    elif btype != 0:
        raise Corrupt("%s: unknown compression %d" % (what, btype))
    return block


def block_entries(block):
    if len(block) < 4:
        raise Corrupt("block too short")
    nrest = struct.unpack_from("I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * nrest
    if end < 0:
        raise Corrupt("bad restart count")
    pos = 0
    key = b""
    while pos < end:
        shared, pos = varint(block, pos)
        unshared, pos = varint(block, pos)
        vlen, pos = varint(block, pos)
        if shared > len(key) or pos + unshared + vlen > end:
            raise Corrupt("malformed block entry")
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        yield key, block[pos:pos + vlen]
        pos += vlen


def read_table(path):
    data = open(path, "rb").read()
    if len(data) < 48:
        raise Corrupt("table too short")
    footer = data[-48:]
    if struct.unpack_from("Q", footer, 40)[0] != MAGIC:
        raise Corrupt("bad magic number")
    pos = 0
    _, pos = varint(footer, pos)
    _, pos = varint(footer, pos)
    index_off, pos = varint(footer, pos)
    index_size, pos = varint(footer, pos)
    index = read_block(data, index_off, index_size, "index block")
    out = []
    for _, handle in block_entries(index):
        off, p = varint(handle, 0)
        size, p = varint(handle, p)
        out.extend(block_entries(read_block(data, off, size, "data block @%d" % off)))
    keys = [k for k, _ in out]
    if keys != sorted(keys) or len(set(keys)) != len(keys):
        raise Corrupt("keys not strictly increasing")
    return out


# ---- Bundle ------------------------------------------------------------------------------------------
def read_tensor(prefix, num_shards, e, key):
    shard = "%s.data-%05d-of-%05d" % (prefix, e["shard"], num_shards)
    if not os.path.exists(shard):
        raise Corrupt("%s: missing shard %s" % (key, shard))
    with open(shard, "rb") as f:
        f.seek(e["offset"])
        raw = f.read(e["size"])
    if len(raw) != e["size"]:
        raise Corrupt("%s: entry runs past the end of the shard" % key)
    n = 1
    for d in e["shape"]:
        n *= d
    if e["dtype"] == 7:
        pos = 0
        lens = []
        crc = 0
        for _ in range(n):
            ln, pos = varint(raw, pos)
            lens.append(ln)
            crc = crc32c(struct.pack("I", ln) if ln <= 0xFFFFFFFF else struct.pack("Q", ln), crc)
        lcrc = raw[pos:pos + 4]
        if unmask(struct.unpack("I", lcrc)[0]) != crc:
            raise Corrupt("%s: string length checksum mismatch" % key)
        crc = crc32c(lcrc, crc)
        pos += 4
        crc = crc32c(raw[pos:], crc)
        if crc != unmask(e["crc"]):
            raise Corrupt("%s: tensor checksum mismatch" % key)
        strings = []
        for ln in lens:
            strings.append(raw[pos:pos + ln])
            pos += ln
        if pos != len(raw):
            raise Corrupt("%s: string sizes disagree with entry size" % key)
        return raw, strings
    if crc32c(raw) != unmask(e["crc"]):
        raise Corrupt("%s: tensor checksum mismatch" % key)
    elem = DTYPES.get(e["dtype"], (None, None, 0))[2]
    if elem and n * elem != e["size"]:
        raise Corrupt("%s: shape disagrees with stored size" % key)
    return raw, None


def read_v1(path):
    """Legacy V1 checkpoint: "" entry = SavedTensorSlices{1 meta{1 tensor{1 name, 2 shape, 3 type}}},
    other entries = SavedTensorSlices{2 data{1 name, 3 TensorProto}}."""
    table = read_table(path)
    if not table or table[0][0] != b"":
        raise Corrupt("V1 metadata entry missing")
    tensors = {}
    for num, _, meta in fields(table[0][1]):
        if num != 1:
            continue
        for n2, _, sm in fields(meta):
            if n2 != 1:
                continue
            t = {"shape": [], "dtype": 0}
            for n3, _, v in fields(sm):
                if n3 == 1:
                    t["name"] = v.decode()
                elif n3 == 2:
                    t["shape"] = parse_shape(v)
                elif n3 == 3:
                    t["dtype"] = v
            tensors[t["name"]] = t
    packed = {1: (5, "f", 4), 2: (6, "d", 8), 3: (7, None, 0), 9: (10, None, 0)}
    for _, value in table[1:]:
        for num, _, sl in fields(value):
            if num != 2:
                continue
            name, proto = None, b""
            for n2, _, v in fields(sl):
                if n2 == 1:
                    name = v.decode()
                elif n2 == 3:
                    proto = v
            t = tensors[name]
            fnum, fmt, size = packed[t["dtype"]]
            vals = []
            for n3, wt, v in fields(proto):
                if n3 != fnum:
                    continue
                if wt == 2 and fmt:
                    vals += list(struct.unpack("<%d%s" % (len(v) // size, fmt), v))
                elif wt == 2:
                    pos = 0
                    while pos < len(v):
                        x, pos = varint(v, pos)
                        vals.append(signed64(x))
                elif fmt:
                    vals.append(struct.unpack("<" + fmt, struct.pack("<I" if size == 4 else "<Q", v))[0])
                else:
                    vals.append(signed64(v))
            t["values"] = vals
    out = [{"key": k, "dtype": DTYPES[t["dtype"]][0], "shape": t["shape"], "values": t.get("values")}
           for k, t in sorted(tensors.items())]
    json.dump({"entries": out}, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "--v1":
        return read_v1(argv[2])
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    prefix = argv[1]
    want_values = "--values" in argv
    table = read_table(prefix + ".index")
    if not table or table[0][0] != b"":
        raise Corrupt("header entry missing")
    num_shards = 1
    for num, _, v in fields(table[0][1]):
        if num == 1:
            num_shards = v
    result = {"num_shards": num_shards, "entries": []}
    for key, value in table[1:]:
        if key[:1] == b"\x00":
            continue
        e = parse_entry(value)
        k = key.decode()
        raw, strings = read_tensor(prefix, num_shards, e, k)
        info = DTYPES.get(e["dtype"], ("DT_%d" % e["dtype"], None, 0))
        row = {"key": k, "dtype": info[0], "shape": e["shape"], "shard": e["shard"], "offset": e["offset"],
               "size": e["size"], "sha256": hashlib.sha256(raw).hexdigest()}
        if want_values:
            if strings is not None:
                row["values"] = [s.hex() for s in strings]
            elif info[1]:
                cnt = e["size"] // info[2]
                row["values"] = list(struct.unpack("<%d%s" % (cnt, info[1]), raw))
        if k == "_CHECKPOINTABLE_OBJECT_GRAPH" and strings:
            result["object_graph"] = parse_graph(strings[0])
        result["entries"].append(row)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Corrupt as exc:
        print("bundle_reader: %s: %s" % (sys.argv[1], exc), file=sys.stderr)
        sys.exit(1)
