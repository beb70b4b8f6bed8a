#!/usr/bin/python3
"""Makes hostile variants of a TensorBundle index for kmodel's bad-input tests (no TF, no LevelDB).

  corrupt_bundle.py set-shape PREFIX KEY DIMS     rewrite KEY's shape (DIMS "2,3" or "" for scalar)
  corrupt_bundle.py set-size PREFIX KEY SIZE      rewrite KEY's byte size

The index is re-encoded as a valid LevelDB table (one data block, restart interval 1, empty metaindex,
correct masked CRC32C trailers) so only the named field is wrong.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bundle_reader as br  # noqa: E402


def put_varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(num, wt, payload):
    tag = put_varint((num << 3) | wt)
    if wt == 0:
        return tag + put_varint(payload)
    if wt == 2:
        return tag + put_varint(len(payload)) + payload
    if wt == 5:
        return tag + struct.pack("<I", payload)
    raise ValueError(wt)


def encode_entry(e):
    shape = b"".join(field(2, 2, field(1, 0, d) if d else b"") for d in e["shape"])
    out = field(1, 0, e["dtype"]) + field(2, 2, shape)
    if e["shard"]:
        out += field(3, 0, e["shard"])
    if e["offset"]:
        out += field(4, 0, e["offset"])
    if e["size"]:
        out += field(5, 0, e["size"])
    return out + field(6, 5, e["crc"])


def mask(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def block(entries):
    body = bytearray()
    restarts = []
    for k, v in entries:
        restarts.append(len(body))
        body += put_varint(0) + put_varint(len(k)) + put_varint(len(v)) + k + v
    if not restarts:
        restarts = [0]
    for r in restarts:
        body += struct.pack("<I", r)
    body += struct.pack("<I", len(restarts))
    return bytes(body)


def write_table(path, entries):
    out = bytearray()

    def emit(b):
        off = len(out)
        out.extend(b)
        out.append(0)
        out.extend(struct.pack("<I", mask(br.crc32c(b + b"\x00"))))
        return off, len(b)

    d_off, d_size = emit(block(entries))
    m_off, m_size = emit(block([]))
    last = entries[-1][0] + b"\xff"
    i_off, i_size = emit(block([(last, put_varint(d_off) + put_varint(d_size))]))
    footer = put_varint(m_off) + put_varint(m_size) + put_varint(i_off) + put_varint(i_size)
    footer += b"\x00" * (40 - len(footer)) + struct.pack("<Q", br.MAGIC)
    out.extend(footer)
    with open(path, "wb") as f:
        f.write(out)


def main(argv):
    op, prefix, key = argv[1], argv[2], argv[3].encode()
    table = br.read_table(prefix + ".index")
    new = []
    for k, v in table:
        if k == key:
            e = br.parse_entry(v)
            if op == "set-shape":
                e["shape"] = [int(x) for x in argv[4].split(",") if x]
            elif op == "set-size":
                e["size"] = int(argv[4])
            else:
                raise SystemExit("unknown op " + op)
            v = encode_entry(e)
        new.append((k, v))
    write_table(prefix + ".index", new)


if __name__ == "__main__":
    main(sys.argv)
