"""`shift_wcs`: a sub-array's WCS keeps the world coordinates of every pixel, SIP distortion included."""

from __future__ import annotations

import numpy as np
from astropy.wcs import WCS, Sip

from hunt_clusters.sky import shift_wcs


def _sip_wcs() -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"]
    w.wcs.crval = [210.2588, 2.8786]
    w.wcs.crpix = [100.5, 100.5]
    w.wcs.cdelt = [-4 / 3600, 4 / 3600]
    a = np.zeros((3, 3))
    b = np.zeros((3, 3))
    a[2, 0], b[0, 2] = 2e-5, -3e-5  # a distortion of ~0.3 px at 100 px from the reference pixel
    w.sip = Sip(a, b, None, None, w.wcs.crpix)
    return w


def test_shifted_sip_wcs_keeps_world_coordinates() -> None:
    w = _sip_wcs()
    origin = (37, 52)
    sub = shift_wcs(w, origin)
    x = np.array([0.0, 10.0, 80.0, 140.0])
    y = np.array([0.0, 90.0, 15.0, 120.0])
    np.testing.assert_allclose(
        sub.all_pix2world(x, y, 0), w.all_pix2world(x + origin[0], y + origin[1], 0), rtol=0, atol=1e-10
    )
    assert w.wcs.crpix.tolist() == [100.5, 100.5]  # the original is not modified


def test_moving_crpix_alone_would_be_wrong() -> None:
    """Guards the test above: without the SIP shift the coordinates differ measurably."""
    w = _sip_wcs()
    naive = w.deepcopy()
    naive.wcs.crpix = naive.wcs.crpix - np.array([37.0, 52.0])
    far = w.all_pix2world([150.0], [150.0], 0)
    got = naive.all_pix2world([150.0 - 37], [150.0 - 52], 0)
    assert np.hypot(*(np.array(got) - np.array(far)).ravel()) * 3600 > 0.1  # arcsec
