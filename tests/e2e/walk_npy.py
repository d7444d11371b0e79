#!/usr/bin/env python3
"""Writes a walking stick figure with the SMPL-22 joint layout as a float32 .npy (T, 22, 3),
standard library only. Usage: walk_npy.py OUT.npy YAW_DEGREES (0 walks along +Z)."""
import math, struct, sys
yaw = math.radians(float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
parents = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19]
offsets = [(0, 0, 0), (0.08, -0.08, 0), (-0.08, -0.08, 0), (0, 0.11, -0.02), (0.03, -0.38, 0),
           (-0.03, -0.38, 0), (0, 0.13, 0.02), (-0.01, -0.40, -0.04), (0.01, -0.40, -0.04),
           (0, 0.05, 0), (0.03, -0.05, 0.12), (-0.03, -0.05, 0.12), (0, 0.21, -0.04),
           (0.08, 0.12, -0.04), (-0.08, 0.12, -0.04), (0, 0.06, 0.06), (0.09, 0.03, -0.01),
           (-0.09, 0.03, -0.01), (0.25, -0.01, -0.02), (-0.25, -0.01, -0.02), (0.25, 0.01, 0),
           (-0.25, 0.01, 0)]
def rot_x(v, a):
    x, y, z = v
    return (x, y * math.cos(a) - z * math.sin(a), y * math.sin(a) + z * math.cos(a))
frames = []
for f in range(30):
    t = f / 20.0
    swing = 0.5 * math.sin(2 * math.pi * t)
    pos = []
    for j, p in enumerate(parents):
        if p < 0:
            pos.append((0.0, 0.95, 1.2 * t))
            continue
        o = offsets[j]
        if j in (4, 7, 10):  # left leg below the hip swings
            o = rot_x(o, swing)
        if j in (5, 8, 11):
            o = rot_x(o, -swing)
        pos.append(tuple(a + b for a, b in zip(pos[p], o)))
    c, s = math.cos(yaw), math.sin(yaw)
    frames.append([(c * x + s * z, y, -s * x + c * z) for x, y, z in pos])
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (30, 22, 3), }"
header += " " * (63 - (10 + len(header)) % 64) + "\n"
with open(sys.argv[1], "wb") as out:
    out.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    for pos in frames:
        for p in pos:
            out.write(struct.pack("<3f", *p))
