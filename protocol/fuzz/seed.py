#!/usr/bin/env python3
"""Writes the fuzz seeds into protocol/fuzz/seeds/ (run from anywhere).

decode gets the golden frames (tests/fixtures/golden.json) raw; reader all of them
length-delimited in one stream (after a chunk-plan byte); hello the golden frames as masked
WebSocket frames the way a browser sends them, one after pings; policy a few restriction
documents; css a selector, sheet, media list and color-scheme per target function.
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


def ws_frame(opcode, payload, mask=b"\x37\xfa\x21\x3d"):
    """A masked client frame, FIN set (RFC 6455 section 5.2)."""
    head = bytearray([0x80 | opcode])
    n = len(payload)
    if n <= 125:
        head.append(0x80 | n)
    elif n <= 0xFFFF:
        head.append(0x80 | 126)
        head += n.to_bytes(2, "big")
    else:
        head.append(0x80 | 127)
        head += n.to_bytes(8, "big")
    return bytes(head) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


hello = here / "seeds" / "hello"
hello.mkdir(parents=True, exist_ok=True)
for case in cases:
    frame = bytes.fromhex(case["hex"])
    (hello / f"{case['name']}.bin").write_bytes(ws_frame(0x2, frame))
golden_hello = bytes.fromhex(next(c["hex"] for c in cases if c["variant"] == "Hello"))
(hello / "pings_then_hello.bin").write_bytes(
    ws_frame(0x9, b"hi") + ws_frame(0xA, b"") + ws_frame(0x2, golden_hello)
)
(hello / "text.bin").write_bytes(ws_frame(0x1, b"hello"))
(hello / "close.bin").write_bytes(ws_frame(0x8, b"\x03\xe8bye"))

policy = here / "seeds" / "policy"
policy.mkdir(parents=True, exist_ok=True)
documents = {
    "default": {"version": 1, "rules": [
        {"selector": "input[type=submit]", "action": "restrict"},
        {"selector": "button[type=submit]", "action": "restrict"},
        {"selector": "form button:not([type])", "action": "restrict"},
    ]},
    "masks": {"version": 1, "rules": [
        {"selector": "#card, .cvv input", "action": "mask", "urlPattern": "https://shop.example/*"},
        {"selector": "[data-private]", "action": "hide"},
    ]},
    "empty": {"version": 1, "rules": []},
}
for name, doc in documents.items():
    (policy / f"{name}.json").write_text(json.dumps(doc))

css = here / "seeds" / "css"
css.mkdir(parents=True, exist_ok=True)
samples = [
    (0, "a:hover > .x:focus-within, :is(li:active, :not(:focus-visible)) [title=':hover']"),
    (1, '@import url("theme.css") screen; .b:hover { background: url(img/bg.png) } '
        '@media (prefers-color-scheme: dark) { a:focus { color: red } } '
        '@font-face { src: url(\'f.woff2\') format("woff2") }'),
    (2, "x-a:defined, :not(:defined), my-widget:defined > p"),
    (3 | 0x80, "screen and (prefers-color-scheme: dark), print and (not (prefers-color-scheme: light))"),
    (4, "light dark"),
]
for pick, text in samples:
    (css / f"pick{pick & 0x7F}.bin").write_bytes(bytes([pick]) + text.encode())
print(f"{len(cases)} decode seeds, 1 reader seed ({len(stream)} bytes), "
      f"{len(cases) + 3} hello, {len(documents)} policy, {len(samples)} css seeds")
