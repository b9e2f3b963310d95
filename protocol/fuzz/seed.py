#!/usr/bin/env python3
"""Writes the golden frames (tests/fixtures/golden.json) as fuzz seeds.

decode and roundtrip get raw frames; reader gets all frames length-delimited in one stream (after
a chunk-plan byte). Run from anywhere; writes into protocol/fuzz/seeds/.
"""
import json
import pathlib

here = pathlib.Path(__file__).resolve().parent
cases = json.loads((here.parent / "tests" / "fixtures" / "golden.json").read_text())["cases"]


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


decode = here / "seeds" / "decode"
reader = here / "seeds" / "reader"
decode.mkdir(parents=True, exist_ok=True)
reader.mkdir(parents=True, exist_ok=True)
stream = bytearray()
for case in cases:
    frame = bytes.fromhex(case["hex"])
    (decode / f"{case['name']}.bin").write_bytes(frame)
    stream += varint(len(frame)) + frame
# The reader target's first byte seeds its chunk sizes; the rest is the stream.
(reader / "all_golden.bin").write_bytes(b"\x07" + bytes(stream))
print(f"{len(cases)} decode seeds, 1 reader seed ({len(stream)} bytes)")
