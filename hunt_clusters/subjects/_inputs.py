"""The renderer's images: any accepted form read by :mod:`hunt_clusters.sky`, files cached by path and mtime."""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from typing import Any

from ..sky import SkyImage, load_optical, load_xray

log = logging.getLogger(__name__)

_LOADERS = {"optical": load_optical, "xray": load_xray}


@lru_cache(maxsize=8)
def _read_cached(path: str, kind: str, stamp: tuple[str, int, int]) -> SkyImage:
    """Read a file once while ``stamp`` (absolute path, mtime, size) stays the same.

    Candidates of a real survey share X-ray pointings: a subject set reads each pointing once.
    """
    return _LOADERS[kind](path)


def load_image(source: Any, kind: str) -> SkyImage:
    """The image of ``source`` as a :class:`~hunt_clusters.sky.SkyImage`.

    Parameters
    ----------
    source : path, HDU, HDUList, (array, WCS), NDData or SkyImage
        Any form :func:`hunt_clusters.sky.load_xray` accepts; a SkyImage is used as it is.
    kind : {'optical', 'xray'}
        ``'xray'`` also finds the exposure and background maps (extensions or sibling files).

    Returns
    -------
    SkyImage
        Files are read by :func:`~hunt_clusters.sky.load_xray` / :func:`~hunt_clusters.sky.load_optical`
        and the last few kept in memory (read-only use: do not modify their arrays).

    Raises
    ------
    TypeError
        For a form that is none of the accepted ones.
    InputError
        For a file that cannot be read, a missing celestial WCS, or maps on another grid.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.cdelt = [-1 / 3600, 1 / 3600]; w.wcs.crval = [150.0, 2.0]
    >>> img = load_image((np.zeros((10, 10)), w), "xray")
    >>> img.kind, img.shape, load_image(img, "optical") is img
    ('xray', (10, 10), True)
    """
    if isinstance(source, SkyImage):
        return source
    loader = _LOADERS[kind]
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            st = os.stat(path)
        except OSError:
            return loader(path)  # the sky reader words the error
        return _read_cached(path, kind, (os.path.abspath(path), st.st_mtime_ns, st.st_size))
    return loader(source)
