"""Fast sky geometry for footprint checks and cutouts: frame rotations cached, angles in plain numpy.

Converting a SkyCoord between frames through astropy's transform graph costs about a millisecond per
call; cutting thousands of candidates out of images whose WCS is FK5 (XMM) while the catalogue is
ICRS would spend most of its time there. Between frames that differ by a fixed rotation (ICRS, FK5
at a given equinox, Galactic...) the rotation matrix is computed once with astropy and cached;
frames for which a check shows the transform is not a rotation (FK4 with E-terms, frames that
depend on time or place) always go through astropy.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from astropy.coordinates import BaseCoordinateFrame, CartesianRepresentation, SkyCoord, UnitSphericalRepresentation

log = logging.getLogger(__name__)

_ROTATIONS: dict[tuple[str, str], np.ndarray | None] = {}
_MAX_CACHE = 64


def _frame_key(frame: BaseCoordinateFrame) -> str:
    return repr(frame.replicate_without_data())


def _rotation(src: BaseCoordinateFrame, dst: BaseCoordinateFrame) -> np.ndarray | None:
    key = (_frame_key(src), _frame_key(dst))
    if key in _ROTATIONS:
        return _ROTATIONS[key]
    basis = np.eye(3)
    probe = np.array([[0.3, -0.5, 0.81], [-0.7, 0.2, -0.1]]).T
    probe = probe / np.linalg.norm(probe, axis=0)
    xyz = np.concatenate([basis, probe], axis=1)
    try:
        unit = CartesianRepresentation(xyz).represent_as(UnitSphericalRepresentation)
        out = SkyCoord(src.realize_frame(unit)).transform_to(dst).cartesian.xyz.value
    except Exception:  # noqa: BLE001 - frames that need more information (obstime, location) than they hold
        matrix = None
    else:
        matrix = out[:, :3]
        if not np.allclose(matrix @ probe, out[:, 3:], atol=1e-13, rtol=0):
            matrix = None
    if len(_ROTATIONS) >= _MAX_CACHE:
        _ROTATIONS.clear()
    _ROTATIONS[key] = matrix
    log.debug("frame rotation %s -> %s: %s", *key, "cached" if matrix is not None else "not a rotation")
    return matrix


def lonlat_deg(position: SkyCoord, frame: BaseCoordinateFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (deg) of ``position`` in ``frame``, as float arrays of its shape."""
    pframe: Any = position.frame
    if pframe.is_equivalent_frame(frame):
        sph = pframe.represent_as(UnitSphericalRepresentation)
        return np.asarray(sph.lon.deg, dtype=float), np.asarray(sph.lat.deg, dtype=float)
    matrix = _rotation(pframe, frame)
    if matrix is None:
        sph = position.transform_to(frame).represent_as(UnitSphericalRepresentation)
        return np.asarray(sph.lon.deg, dtype=float), np.asarray(sph.lat.deg, dtype=float)
    sph = pframe.represent_as(UnitSphericalRepresentation)
    lon, lat = np.deg2rad(np.asarray(sph.lon.deg, dtype=float)), np.deg2rad(np.asarray(sph.lat.deg, dtype=float))
    v = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    w = np.tensordot(matrix, v, axes=1)
    lon2 = np.rad2deg(np.arctan2(w[1], w[0])) % 360.0
    lat2 = np.rad2deg(np.arcsin(np.clip(w[2], -1.0, 1.0)))
    return lon2, lat2


def separation_deg(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Great-circle distance in degrees (Vincenty formula, accurate at all separations)."""
    l1, b1, l2, b2 = (np.deg2rad(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    dl = l2 - l1
    num = np.hypot(np.cos(b2) * np.sin(dl), np.cos(b1) * np.sin(b2) - np.sin(b1) * np.cos(b2) * np.cos(dl))
    den = np.sin(b1) * np.sin(b2) + np.cos(b1) * np.cos(b2) * np.cos(dl)
    return np.rad2deg(np.arctan2(num, den))
