"""The Grayscale Standard Display Function of PS3.14 (luminance <-> JND index) and the
CIELAB lightness curve, as display curves over a number of digital driving levels (DDLs).

    curve = DisplayCurve(l_min=0.5, l_max=300, ddl_count=256)
    curve.gsdf()      # luminance in cd/m^2 for every DDL, equally spaced in JND index
"""
from __future__ import annotations

import math
from dataclasses import dataclass

# PS3.14 section 7: L(j) as a rational function of ln j, and j(L) as a polynomial of log10 L
_LA, _LB, _LC, _LD, _LE = -1.3011877, -2.5840191e-2, 8.0242636e-2, -1.0320229e-1, 1.3646699e-1
_LF, _LG, _LH, _LK, _LM = 2.8745620e-2, -2.5468404e-2, -3.1978977e-3, 1.2992634e-4, 1.3635334e-3
_J = (71.498068, 94.593053, 41.912053, 9.8247004, 0.28175407, -1.1878455, -0.18014349,
      0.14710899, -0.017046845)
JND_MIN, JND_MAX = 1.0, 1023.0
L_MIN, L_MAX = 0.05, 4000.0      # the luminance range PS3.14 defines the function over


def luminance(j: float) -> float:
    """Luminance (cd/m^2) of JND index ``j`` (1..1023)."""
    x = math.log(j)
    num = _LA + _LC * x + _LE * x ** 2 + _LG * x ** 3 + _LM * x ** 4
    den = 1 + _LB * x + _LD * x ** 2 + _LF * x ** 3 + _LH * x ** 4 + _LK * x ** 5
    return 10 ** (num / den)


def jnd_index(lum: float) -> float:
    """JND index of luminance ``lum`` (0.05..4000 cd/m^2)."""
    x = math.log10(lum)
    return sum(c * x ** n for n, c in enumerate(_J))


def od_to_luminance(od: float, illumination: float, ambient: float = 0.0) -> float:
    """Luminance of a film of optical density ``od`` on a light box (PS3.14 section 6)."""
    return ambient + illumination * 10 ** -od


class DisplayCurveError(ValueError):
    """A luminance range outside what PS3.14 defines, or too few driving levels."""


@dataclass
class DisplayCurve:
    """A device's luminance range (without ambient light) and its driving levels."""
    l_min: float
    l_max: float
    ddl_count: int = 256
    ambient: float = 0.0

    def check(self) -> None:
        if self.ddl_count < 2:
            raise DisplayCurveError(f"number of DDLs {self.ddl_count} is below 2")
        lo, hi = self.l_min + self.ambient, self.l_max + self.ambient
        if not L_MIN <= lo < hi <= L_MAX:
            raise DisplayCurveError(f"luminance range {lo:g} - {hi:g} cd/m^2 is outside "
                                    f"{L_MIN:g} - {L_MAX:g} or empty")

    @property
    def jnd_range(self) -> tuple[float, float]:
        return jnd_index(self.l_min + self.ambient), jnd_index(self.l_max + self.ambient)

    def gsdf(self) -> list[float]:
        """Luminance at each DDL, equally spaced in JND index between the range's ends."""
        self.check()
        j0, j1 = self.jnd_range
        step = (j1 - j0) / (self.ddl_count - 1)
        return [luminance(j0 + i * step) for i in range(self.ddl_count)]

    def cielab(self) -> list[float]:
        """Luminance at each DDL, equally spaced in CIE L* from L*(min/max) to 100."""
        self.check()
        lo, hi = self.l_min + self.ambient, self.l_max + self.ambient
        y0 = lo / hi
        start = 116 * y0 ** (1 / 3) - 16 if y0 > 0.008856 else 903.3 * y0
        step = (100.0 - start) / (self.ddl_count - 1)
        out = []
        for i in range(self.ddl_count):
            lstar = start + i * step
            y = ((lstar + 16) / 116) ** 3 if lstar > 8 else lstar / 903.3
            out.append(hi * y)
        return out
