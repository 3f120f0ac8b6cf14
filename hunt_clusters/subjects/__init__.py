"""Subjects: X-ray contours over optical images for volunteers, CNN tensors, subject-set folders."""

from ..sky import OutsideFootprintError  # re-exported: the renderer raises the sky stage's error
from ._config import MAX_SUBJECT_BYTES, RenderConfig
from ._contact import class_captions, contact_sheet
from ._overlay import (
    ContourSet,
    MIN_XRAY_PIXELS_ACROSS,
    EmptyXrayError,
    NoContoursError,
    Overlay,
    SubjectTooLargeError,
    XraySignal,
    contour_levels,
    encode_subject,
    render_overlay,
    xray_signal,
    xray_to_optical_pixels,
)
from ._spec import SubjectSetSpec, load_spec
from ._subject_set import (
    KOSIBA_SIZE,
    MANIFEST_COLUMNS,
    RenderSummary,
    SubjectRecord,
    render_subject_set,
    select_candidates,
)
from ._tensors import kosiba_png_array, make_tensor, tensor_wcs

__all__ = [
    "KOSIBA_SIZE",
    "MANIFEST_COLUMNS",
    "MAX_SUBJECT_BYTES",
    "MIN_XRAY_PIXELS_ACROSS",
    "ContourSet",
    "EmptyXrayError",
    "NoContoursError",
    "OutsideFootprintError",
    "Overlay",
    "RenderConfig",
    "RenderSummary",
    "SubjectRecord",
    "SubjectSetSpec",
    "SubjectTooLargeError",
    "XraySignal",
    "class_captions",
    "contact_sheet",
    "contour_levels",
    "encode_subject",
    "kosiba_png_array",
    "load_spec",
    "make_tensor",
    "render_overlay",
    "render_subject_set",
    "select_candidates",
    "tensor_wcs",
    "xray_signal",
    "xray_to_optical_pixels",
]
