"""The render options: one frozen dataclass, validated once, overridable from a spec file or the CLI."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .._errors import InputError

#: Zooniverse (and the panoptes CLI) refuse subject files above this size.
MAX_SUBJECT_BYTES: int = 1024 * 1024

_FORMATS = ("png", "jpeg")
_STRETCHES = ("asinh", "log", "sqrt", "linear")
_INTERVALS = ("sky", "percentile", "zscale")
_TENSOR_METHODS = ("affine", "reproject")
_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class RenderConfig:
    """How a subject image and its CNN tensor are made.

    Every field has a default that suits XMM-Newton candidates over DSS images; a spec file's
    ``render:`` block and the ``hunt-clusters render`` flags override them.

    Parameters
    ----------
    fov_arcmin : float
        Side of the square field shown to volunteers, centred on the candidate (arcmin).
    size : int
        Side of the output image in pixels (square).
    format : {'jpeg', 'png'}
        Output image format. JPEG (quality 90, no chroma subsampling, so that the coloured lines keep
        their colour) is the default: ~150 kB a subject against ~390 kB as PNG on the mock survey,
        and six times faster to encode (docs/render.md, "Which format").
    jpeg_quality : int
        Starting JPEG quality (lowered step by step if a subject would exceed 1 MiB).
    png_compress_level : int
        zlib level of the PNG encoder (1 = fast, 9 = smallest).
    interval : {'sky', 'percentile', 'zscale'}
        How the optical display limits are chosen. ``sky`` (default): the sky background (median of
        the field) is shown at the grey level ``sky_grey`` and the bright end at the ``percentile``
        percentile of the field, so that every subject's sky looks the same whatever its plate's
        zero point or the stars in it; ``percentile`` and ``zscale``: the limits of
        `astropy.visualization.PercentileInterval` or `astropy.visualization.ZScaleInterval`.
        The CNN tensors use ``percentile`` for ``sky`` (their normalisation does not change).
    percentile : float
        Percentage of optical pixels below the bright end (``sky``) or kept inside the limits
        (``percentile``).
    sky_grey : float
        Grey level of the sky background after the stretch for ``interval='sky'`` (0 black, 1 white).
    stretch : {'asinh', 'log', 'sqrt', 'linear'}
        Optical stretch (`astropy.visualization.AsinhStretch`, ``LogStretch``, ...).
    stretch_a : float
        The ``a`` parameter of the asinh stretch (or of the log stretch).
    smooth_arcsec : float
        Gaussian sigma of the X-ray smoothing (arcsec); at least one X-ray pixel is used.
    n_levels : int
        Number of contour levels.
    min_sigma : float
        The lowest contour lies this many noise sigmas above the background.
    peak_radius_arcmin : float
        The highest level is set by the X-ray peak within this radius of the candidate, so that the
        candidate's own shape gets all levels even beside a brighter field source (0 = the peak of
        the whole field).
    colors : tuple of str
        Contour colours as ``#rrggbb``, innermost level last; levels share them in turn from the
        outermost when there are fewer colours than levels.
    line_width : float
        Contour line width in output pixels.
    antialias : bool
        Draw contours anti-aliased with aggdraw (smooth lines, edge pixels partly opaque; costs
        about 1.5 ms per subject); False draws hard-edged lines in pure colours.
    scale_bar_arcmin : float
        Length of the scale bar (0 = no scale bar).
    compass : bool
        Draw north and east arrows.
    tensor_size : int
        Side of the CNN tensor in pixels.
    tensor_fov_arcmin : float
        Side of the CNN tensor field (arcmin): its angular scale is fixed at
        ``tensor_fov_arcmin / tensor_size``.
    tensor_method : {'affine', 'reproject'}
        ``affine``: one affine map per image fitted through both WCSs (fast, checked to 0.05 px);
        ``reproject``: `reproject.reproject_interp` (exact, slower).

    Examples
    --------
    >>> from hunt_clusters.subjects import RenderConfig
    >>> cfg = RenderConfig(size=256, format="jpeg")
    >>> cfg.size, cfg.format, cfg.n_levels
    (256, 'jpeg', 6)
    >>> RenderConfig.from_mapping({"fov_arcmin": 8}).fov_arcmin
    8.0
    """

    fov_arcmin: float = 6.0
    size: int = 512
    format: str = "jpeg"
    jpeg_quality: int = 90
    png_compress_level: int = 1
    interval: str = "sky"
    percentile: float = 99.5
    sky_grey: float = 0.15
    stretch: str = "asinh"
    stretch_a: float = 0.1
    smooth_arcsec: float = 8.0
    n_levels: int = 6
    min_sigma: float = 3.0
    peak_radius_arcmin: float = 1.0
    colors: tuple[str, ...] = field(default=("#00ff66", "#ffee00", "#ff5a1f"))
    line_width: float = 2.0
    antialias: bool = True
    scale_bar_arcmin: float = 1.0
    compass: bool = True
    tensor_size: int = 128
    tensor_fov_arcmin: float = 6.0
    tensor_method: str = "affine"

    def __post_init__(self) -> None:
        def bad(name: str, value: Any, valid: str) -> InputError:
            return InputError(f"render option {name}={value!r} is not valid: {valid}")

        for name in ("fov_arcmin", "percentile", "stretch_a", "smooth_arcsec", "line_width",
                     "tensor_fov_arcmin", "min_sigma", "scale_bar_arcmin", "peak_radius_arcmin", "sky_grey"):
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, float(value))
            except (TypeError, ValueError):
                raise bad(name, value, "expected a number") from None
        for name in ("size", "jpeg_quality", "png_compress_level", "n_levels", "tensor_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise bad(name, value, "expected an integer")
            try:
                as_int = int(value)
            except ValueError:
                raise bad(name, value, "expected an integer") from None
            if as_int != float(value):
                raise bad(name, value, "expected an integer")
            object.__setattr__(self, name, as_int)
        fmt = str(self.format).lower()
        fmt = "jpeg" if fmt == "jpg" else fmt
        if fmt not in _FORMATS:
            raise bad("format", self.format, "one of png, jpeg")
        object.__setattr__(self, "format", fmt)
        for name, allowed in (("stretch", _STRETCHES), ("interval", _INTERVALS),
                              ("tensor_method", _TENSOR_METHODS)):
            if getattr(self, name) not in allowed:
                raise bad(name, getattr(self, name), "one of " + ", ".join(allowed))
        colors = self.colors
        if isinstance(colors, str):
            colors = tuple(c.strip() for c in colors.split(",") if c.strip())
        colors = tuple(colors)
        if not colors or not all(isinstance(c, str) and _COLOUR_RE.match(c) for c in colors):
            raise bad("colors", self.colors, "one or more colours written #rrggbb")
        object.__setattr__(self, "colors", colors)
        for name in ("antialias", "compass"):
            if not isinstance(getattr(self, name), bool):
                raise bad(name, getattr(self, name), "true or false")
        checks = (
            ("fov_arcmin", self.fov_arcmin > 0, "a positive number of arcmin"),
            ("size", 32 <= self.size <= 4096, "between 32 and 4096 pixels"),
            ("jpeg_quality", 1 <= self.jpeg_quality <= 95, "between 1 and 95"),
            ("png_compress_level", 0 <= self.png_compress_level <= 9, "between 0 and 9"),
            ("percentile", 50 < self.percentile <= 100, "between 50 and 100"),
            ("sky_grey", 0 <= self.sky_grey < 0.9, "between 0 and 0.9"),
            ("stretch_a", self.stretch_a > 0, "a positive number"),
            ("smooth_arcsec", self.smooth_arcsec >= 0, "zero or more arcsec"),
            ("n_levels", 1 <= self.n_levels <= 50, "between 1 and 50"),
            ("min_sigma", self.min_sigma > 0, "a positive number"),
            ("peak_radius_arcmin", self.peak_radius_arcmin >= 0, "zero (whole field) or more arcmin"),
            ("line_width", 0 < self.line_width <= 20, "between 0 and 20 pixels"),
            ("scale_bar_arcmin", self.scale_bar_arcmin >= 0, "zero (off) or a positive number"),
            ("tensor_size", 8 <= self.tensor_size <= 1024, "between 8 and 1024 pixels"),
            ("tensor_fov_arcmin", self.tensor_fov_arcmin > 0, "a positive number of arcmin"),
        )
        for name, ok, valid in checks:
            if not ok:
                raise bad(name, getattr(self, name), valid)

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None, *, base: RenderConfig | None = None,
                     source: str = "render options") -> RenderConfig:
        """Build a config from a mapping (a spec file's ``render:`` block, CLI overrides).

        Parameters
        ----------
        options : mapping or None
            Field names and values; ``None`` values are ignored (an unset CLI flag).
        base : RenderConfig, optional
            The config whose values are kept where ``options`` says nothing (defaults otherwise).
        source : str
            Where the options came from, for error messages.

        Returns
        -------
        RenderConfig

        Raises
        ------
        InputError
            For an unknown option or an invalid value.

        Examples
        --------
        >>> base = RenderConfig(size=256)
        >>> RenderConfig.from_mapping({"format": "jpg", "size": None}, base=base)
        ... # doctest: +ELLIPSIS
        RenderConfig(fov_arcmin=6.0, size=256, format='jpeg', ...)
        """
        base = base if base is not None else cls()
        if options is None:
            return base
        if not isinstance(options, Mapping):
            raise InputError(f"{source}: expected a mapping of option: value, got {options!r}")
        names = {f.name for f in fields(cls)}
        changes: dict[str, Any] = {}
        for key, value in options.items():
            name = str(key).replace("-", "_")
            if name not in names:
                raise InputError(
                    f"{source}: unknown render option {key!r}; valid: {', '.join(sorted(names))}"
                )
            if value is not None:
                changes[name] = value
        return dataclasses.replace(base, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The options as a plain dict (JSON/YAML-friendly)."""
        out = dataclasses.asdict(self)
        out["colors"] = list(self.colors)
        return out
