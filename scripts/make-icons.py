#!/usr/bin/env python3
"""Draws the app icons in public/icons/ from the same shapes as
public/favicon.svg: PNGs at 192 and 512 pixels, and a maskable 512 with
the mark inside the safe zone. Run it again after changing the mark."""
import struct, zlib, pathlib

BG = (0x3B, 0x2A, 0x5C)
FG = (0xF4, 0xD3, 0x5E)

def in_round_rect(x, y, x0, y0, x1, y1, r):
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r

def in_tail(x, y):
    # The bubble's tail: (20,44) (30,44) (20,52).
    return y >= 44 and x >= 20 and (x - 20) / 10 + (y - 44) / 8 <= 1

def colour(x, y, maskable):
    """The colour at (x, y) in the 64-unit square, or None outside."""
    if maskable:
        x, y = 32 + (x - 32) / 0.8, 32 + (y - 32) / 0.8
    elif not in_round_rect(x, y, 0, 0, 64, 64, 14):
        return None
    if any((x - cx) ** 2 + (y - 31) ** 2 <= 9 for cx in (24, 32, 40)):
        return BG
    if in_round_rect(x, y, 10, 18, 54, 44, 6) or in_tail(x, y):
        return FG
    return BG

def draw(size, maskable):
    n = 4  # samples per axis
    rows = []
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(n):
                for sx in range(n):
                    c = colour((px + (sx + 0.5) / n) * 64 / size, (py + (sy + 0.5) / n) * 64 / size, maskable)
                    if c:
                        acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 255
            k = n * n
            a = acc[3] // k
            row += bytes([acc[0] // max(1, acc[3] // 255), acc[1] // max(1, acc[3] // 255), acc[2] // max(1, acc[3] // 255), a]) if a else bytes(4)
        rows.append(bytes(row))
    raw = b"".join(rows)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

out = pathlib.Path(__file__).resolve().parent.parent / "public" / "icons"
out.mkdir(parents=True, exist_ok=True)
for name, size, maskable in [("icon-192.png", 192, False), ("icon-512.png", 512, False), ("maskable-512.png", 512, True)]:
    (out / name).write_bytes(draw(size, maskable))
    print(out / name)
