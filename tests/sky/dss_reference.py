"""An independent implementation of the DSS plate solution (WCSTools ``dsspos.c``), for checking astropy.

x and y are 0-based image pixels. The plate solution maps plate millimetres to standard
coordinates (xi, eta) in arcsec with the AMDX/AMDY polynomials, then deprojects about the plate
centre (PLTRAH..., PLTDEC...) gnomonically.
"""

from __future__ import annotations

import numpy as np
from astropy.io import fits


def dss_pixel_to_radec(hdr: fits.Header, x0: np.ndarray | float, y0: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """RA, Dec (deg, FK5 J2000) of 0-based pixel (x0, y0) from the full DSS plate solution."""
    # dsspos.c: x = xpix + CNPIX1 - 1 + 0.5 with xpix 1-based
    x = np.asarray(x0, dtype=float) + 1.0 + hdr["CNPIX1"] - 0.5
    y = np.asarray(y0, dtype=float) + 1.0 + hdr["CNPIX2"] - 0.5
    xmm = (hdr["PPO3"] - x * hdr["XPIXELSZ"]) / 1000.0
    ymm = (y * hdr["YPIXELSZ"] - hdr["PPO6"]) / 1000.0
    a = [float(hdr.get(f"AMDX{i}", 0.0)) for i in range(1, 21)]
    b = [float(hdr.get(f"AMDY{i}", 0.0)) for i in range(1, 21)]
    x2, y2, xy = xmm * xmm, ymm * ymm, xmm * ymm
    r2 = x2 + y2
    xi = (a[0] * xmm + a[1] * ymm + a[2] + a[3] * x2 + a[4] * xy + a[5] * y2 + a[6] * r2 + a[7] * x2 * xmm
          + a[8] * x2 * ymm + a[9] * xmm * y2 + a[10] * y2 * ymm + a[11] * xmm * r2 + a[12] * xmm * r2 * r2)
    eta = (b[0] * ymm + b[1] * xmm + b[2] + b[3] * y2 + b[4] * xy + b[5] * x2 + b[6] * r2 + b[7] * y2 * ymm
           + b[8] * y2 * xmm + b[9] * ymm * x2 + b[10] * x2 * xmm + b[11] * ymm * r2 + b[12] * ymm * r2 * r2)
    # (terms 14-20 are magnitude and colour terms, zero in DSS image headers)
    xi = np.deg2rad(xi / 3600.0)
    eta = np.deg2rad(eta / 3600.0)
    ra0 = np.deg2rad(15.0 * (hdr["PLTRAH"] + hdr["PLTRAM"] / 60.0 + hdr["PLTRAS"] / 3600.0))
    sign = -1.0 if str(hdr["PLTDECSN"]).strip() == "-" else 1.0
    dec0 = np.deg2rad(sign * (hdr["PLTDECD"] + hdr["PLTDECM"] / 60.0 + hdr["PLTDECS"] / 3600.0))
    ctan, ccos = np.tan(dec0), np.cos(dec0)
    raoff = np.arctan2(xi / ccos, 1.0 - eta * ctan)
    ra = np.rad2deg(raoff + ra0) % 360.0
    dec = np.rad2deg(np.arctan(np.cos(raoff) / ((1.0 - eta * ctan) / (eta + ctan))))
    return ra, dec
