"""A tiny dependency-free PNG line plotter for ``python -m numfit demo``.

Used only when matplotlib is not installed: it draws axes frames, polylines and knot markers
(no text) and writes an 8-bit RGB PNG with ``zlib``.
"""
import struct
import zlib

import numpy as np

__all__ = ["Canvas"]


class Canvas:
    """Panels stacked vertically; each maps data coordinates (optionally log) to pixels."""

    def __init__(self, width=900, height=650, panels=1):
        self.w, self.h = width, height
        self.img = np.full((height, width, 3), 255, dtype=np.uint8)
        self.panels = panels
        self._axes = [None] * panels

    def _box(self, k):
        ph = self.h // self.panels
        return 60, k * ph + 20, self.w - 20, (k + 1) * ph - 30   # x0, y0, x1, y1

    def axes(self, k, xlim, ylim, logx=False, logy=False):
        """Declare panel ``k``'s data limits and draw its frame."""
        self._axes[k] = (xlim, ylim, logx, logy)
        x0, y0, x1, y1 = self._box(k)
        self.img[y0, x0:x1 + 1] = self.img[y1, x0:x1 + 1] = 0
        self.img[y0:y1 + 1, x0] = self.img[y0:y1 + 1, x1] = 0

    def _map(self, k, x, y):
        (xa, xb), (ya, yb), logx, logy = self._axes[k]
        f = (lambda v: np.log10(v)) if logx else (lambda v: v)
        g = (lambda v: np.log10(v)) if logy else (lambda v: v)
        x0, y0, x1, y1 = self._box(k)
        with np.errstate(divide="ignore", invalid="ignore"):
            px = x0 + (f(np.asarray(x, float)) - f(xa)) / (f(xb) - f(xa)) * (x1 - x0)
            py = y1 - (g(np.asarray(y, float)) - g(ya)) / (g(yb) - g(ya)) * (y1 - y0)
        return px, py

    def _put(self, k, px, py, color, r=0):
        x0, y0, x1, y1 = self._box(k)
        ok = np.isfinite(px) & np.isfinite(py)
        px, py = np.rint(px[ok]).astype(int), np.rint(py[ok]).astype(int)
        for dx in range(-r, r + 1):
            for dy in range(-r, r + 1):
                qx, qy = px + dx, py + dy
                m = (qx >= x0) & (qx <= x1) & (qy >= y0) & (qy <= y1)
                self.img[qy[m], qx[m]] = color

    def line(self, k, x, y, color=(31, 119, 180)):
        """Polyline through (x, y), densified to about one sample per pixel."""
        px, py = self._map(k, x, y)
        seg = np.maximum(1, np.ceil(np.hypot(np.diff(px), np.diff(py))).astype(int))
        seg = np.where(np.isfinite(seg), seg, 1)
        t = np.concatenate([np.arange(s) / s for s in seg] + [[0.0]])
        i = np.concatenate([np.full(s, j) for j, s in enumerate(seg)] + [[len(px) - 1]])
        nxt = np.minimum(i + 1, len(px) - 1)
        self._put(k, px[i] + t * (px[nxt] - px[i]), py[i] + t * (py[nxt] - py[i]), color)

    def markers(self, k, x, y, color=(214, 39, 40), r=2):
        px, py = self._map(k, x, y)
        self._put(k, px, py, color, r)

    def save(self, path):
        raw = b"".join(b"\x00" + row.tobytes() for row in self.img)

        def chunk(tag, data):
            body = tag + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        hdr = struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)
        with open(path, "wb") as fh:
            fh.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", hdr)
                     + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
