#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-vault (tests/fuzz/corpus/vault/): files in
the records/vault.h format under the fuzz target's fixed server key (0x42 ×
32), so that mutations get past the key unwrap into the chunk walk.  Needs
python3-cryptography.  Crash inputs are kept under their crash-<sha1> names;
this script never deletes them."""
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "vault")
SERVER_KEY = b"\x42" * 32


def vault(chunks, final=True, key_id=b"k1-fuzz", seed=0):
    rnd = hashlib.sha256(b"seed%d" % seed).digest()
    file_key, wrap_nonce, prefix = rnd, rnd[:12], rnd[12:16]
    head = b"CAUVAULT" + bytes([1, len(key_id)]) + key_id
    wrapped = AESGCM(SERVER_KEY).encrypt(wrap_nonce, file_key, head)
    header = head + wrap_nonce + wrapped + prefix
    digest = hashlib.sha256(header).digest()
    out = header
    items = list(chunks) + ([b""] if final else [])
    for i, plain in enumerate(items):
        flags = 1 if final and i == len(items) - 1 else 0
        nonce = prefix + struct.pack("!Q", i)
        aad = digest + struct.pack("!QB", i, flags)
        out += struct.pack("!IB", len(plain), flags) + AESGCM(file_key).encrypt(nonce, plain, aad)
    return out


def main():
    os.makedirs(HERE, exist_ok=True)
    seeds = {
        "seed-empty.bin": vault([]),
        "seed-one-chunk.bin": vault([b"\x1a\x45\xdf\xa3" + bytes(range(60))]),
        "seed-three-chunks.bin": vault([bytes(100), b"x" * 257, b"matroska"], seed=1),
        "seed-interrupted.bin": vault([b"a" * 50, b"b" * 70], final=False, seed=2),
        "seed-cut.bin": vault([b"a" * 50, b"b" * 70], final=False, seed=3)[:-9],
        "seed-long-key-id.bin": vault([b"z" * 10], key_id=b"k" * 64, seed=4),
    }
    for name, data in seeds.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
