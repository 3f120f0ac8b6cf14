"""Candidate catalogues and sky images (X-ray with exposure/background maps, optical) with their WCS."""

from ._catalogue import COLUMN_ALIASES, CONTRACT_COLUMNS, SPEC_CLASSES, read_candidates
from ._fetch import DSS_SURVEYS, dss_cache_path, fetch_dss
from ._image import OutsideFootprintError, SkyImage, cutout, load_optical, load_xray, shift_wcs
from ._source import ACCEPTED_FORMS, ImageSource
from ._xmm import find_xmm_maps

__all__ = [
    "ACCEPTED_FORMS",
    "COLUMN_ALIASES",
    "CONTRACT_COLUMNS",
    "DSS_SURVEYS",
    "SPEC_CLASSES",
    "ImageSource",
    "OutsideFootprintError",
    "SkyImage",
    "cutout",
    "dss_cache_path",
    "fetch_dss",
    "find_xmm_maps",
    "load_optical",
    "load_xray",
    "read_candidates",
    "shift_wcs",
]
