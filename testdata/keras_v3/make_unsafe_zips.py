#!/usr/bin/env python3
"""Crafts hostile zip archives for kmodel's zip safety tests.

Usage: make_unsafe_zips.py OUTDIR
Writes: abs_path.zip, dotdot.zip, backslash_dotdot.zip, duplicate.zip, huge_size.zip,
encrypted.zip, bad_crc.zip, ok.zip, and a .keras-like archive evil.keras whose config.json is fine but
which also holds '../escape.txt'. Only the Python standard library is used.
"""
import os
import struct
import sys
import zipfile
import zlib


def plain(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = compression
            zf.writestr(zi, data)


def patch_all(path, find, replace):
    with open(path, "rb") as f:
        blob = f.read()
    assert find in blob, (path, find)
    blob = blob.replace(find, replace)
    with open(path, "wb") as f:
        f.write(blob)


def set_flag_bits(path, bits):
    """Sets general-purpose flag bits in every local and central header."""
    with open(path, "rb") as f:
        blob = bytearray(f.read())
    i = 0
    while True:
        i = blob.find(b"PK\x03\x04", i)
        if i < 0:
            break
        flags = struct.unpack_from("<H", blob, i + 6)[0]
        struct.pack_into("<H", blob, i + 6, flags | bits)
        i += 4
    i = 0
    while True:
        i = blob.find(b"PK\x01\x02", i)
        if i < 0:
            break
        flags = struct.unpack_from("<H", blob, i + 8)[0]
        struct.pack_into("<H", blob, i + 8, flags | bits)
        i += 4
    with open(path, "wb") as f:
        f.write(bytes(blob))


def set_sizes(path, usize):
    """Sets the uncompressed size of every entry (local + central headers)."""
    with open(path, "rb") as f:
        blob = bytearray(f.read())
    i = 0
    while True:
        i = blob.find(b"PK\x03\x04", i)
        if i < 0:
            break
        struct.pack_into("<I", blob, i + 22, usize)
        i += 4
    i = 0
    while True:
        i = blob.find(b"PK\x01\x02", i)
        if i < 0:
            break
        struct.pack_into("<I", blob, i + 24, usize)
        i += 4
    with open(path, "wb") as f:
        f.write(bytes(blob))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    j = lambda n: os.path.join(out, n)
    plain(j("ok.zip"), [("a.txt", b"hello"), ("dir/b.bin", bytes(range(256)) * 4)])
    # Absolute path: zipfile strips a leading '/', so write a same-length name and patch it.
    plain(j("abs_path.zip"), [("xetc/passwd", b"root")])
    patch_all(j("abs_path.zip"), b"xetc/passwd", b"/etc/passwd")
    plain(j("dotdot.zip"), [("config.json", b"{}"), ("assets/../../escape.txt", b"pwned")])
    plain(j("backslash_dotdot.zip"), [("a\\..\\..\\x.txt", b"pwned")])
    plain(j("duplicate.zip"), [("config.json", b"{}"), ("config.jsoX", b"{}")])
    patch_all(j("duplicate.zip"), b"config.jsoX", b"config.json")
    # A deflated entry declaring 4 GB of output from a few bytes.
    plain(j("huge_size.zip"), [("model.weights.h5", b"\0" * 1000)], zipfile.ZIP_DEFLATED)
    set_sizes(j("huge_size.zip"), 0xFFFFFFF0)
    # Traditional PKWARE encryption flag (bit 0) on a stored entry.
    plain(j("encrypted.zip"), [("config.json", b"{\"class_name\": \"Sequential\"}")])
    set_flag_bits(j("encrypted.zip"), 1)
    # Corrupt data: flip one byte of a stored entry's payload.
    plain(j("bad_crc.zip"), [("data.bin", b"ABCDEFGHIJKLMNOP")])
    patch_all(j("bad_crc.zip"), b"ABCDEFGHIJKLMNOP", b"ABCDEFGHIJKLMNOQ")
    # A .keras-looking archive with an escaping member.
    plain(j("evil.keras"), [("metadata.json", b"{\"keras_version\": \"3.4.1\"}"),
                            ("config.json", b"{\"module\": \"keras\", \"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": []}}"),
                            ("../escape.txt", b"pwned")])
    # A deflate-compressed (re-packed) archive is legal.
    plain(j("deflated.zip"), [("a.txt", b"hello " * 1000)], zipfile.ZIP_DEFLATED)


if __name__ == "__main__":
    main()
