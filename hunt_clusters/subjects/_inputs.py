"""The renderer's images: any accepted form read by :mod:`hunt_clusters.sky`, files cached by path and mtime.

A URL (``https://``, ``s3://``...) is cached by the version its file system reports (size with ETag,
checksum or modification time, one ``info`` call per image); where it reports none, it is read every time.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from typing import Any

from ..sky import SkyImage, load_optical, load_xray
from ..sky._remote import is_url, url_stamp

log = logging.getLogger(__name__)

_LOADERS = {"optical": load_optical, "xray": load_xray}


@lru_cache(maxsize=8)
def _read_cached(path: str, kind: str, stamp: tuple[Any, ...]) -> SkyImage:
    """Read a file once while ``stamp`` (absolute path, mtime, size; a URL's version) stays the same.

    Candidates of a real survey share X-ray pointings: a subject set reads each pointing once.
    """
    return _LOADERS[kind](path)


def load_image(source: Any, kind: str) -> SkyImage:
    """The image of ``source`` as a :class:`~hunt_clusters.sky.SkyImage`.

    Parameters
    ----------
    source : path, URL, HDU, HDUList, (array, WCS), NDData or SkyImage
        Any form :func:`hunt_clusters.sky.load_xray` accepts; a SkyImage is used as it is. A str
        with ``://`` is an fsspec URL (``https://``, ``s3://``, ``gs://``, ``file://``).
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
        For a file that cannot be read (a URL: one line with the URL, without credentials, and the
        reason), a missing celestial WCS, or maps on another grid.

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
        if is_url(path):
            stamp = url_stamp(path)
            return loader(path) if stamp is None else _read_cached(path, kind, stamp)
        try:
            st = os.stat(path)
        except OSError:
            return loader(path)  # the sky reader words the error
        return _read_cached(path, kind, (os.path.abspath(path), st.st_mtime_ns, st.st_size))
    return loader(source)
