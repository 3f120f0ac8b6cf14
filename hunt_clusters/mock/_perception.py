"""What a person can see in a rendered subject: cues measured on the CNN tensors, nothing else.

The mock observers (`hunt_clusters.mock._observers`) answer from these cues alone, so their only
link to the truth is the picture. Each cue is measured on one subject's tensor (``tensors.npz`` of
a subject set: ``(S, S, 2)`` float32, channels [optical, X-ray], north up, the candidate at the
centre; see `hunt_clusters.subjects.make_tensor`):

X-ray (the contours of the picture), on the S/N map recovered from the X-ray channel
(``snr = 3 sinh(x asinh(100 / 3))``, exact below S/N 100):

* ``x_peak_snr``: the highest S/N within ``CENTRE_RADIUS_ARCSEC`` of the centre (capped at 100);
* ``x_radius_arcsec``: equivalent radius ``sqrt(A / pi)`` of the lowest contour (S/N 3, the
  render default) around that peak: how far the emission reaches;
* ``x_core_arcsec``: equivalent radius of the region above half the peak: the source's own
  width, independent of its brightness (a point source gives the smoothed PSF, ~10-12");
* ``x_n_peaks``: separate blobs within 1' of the centre above 60 % of the peak whose maxima
  reach 75 % of it (comparable sources: a pair, not a cluster's faint neighbour);
* ``x_edge``: fraction of the lowest contour's outline that runs along a field with no X-ray
  data (exposure 0 gives exactly 0 in the tensor) or along the tensor's border;
* ``x_offset_arcsec``: distance of the peak from the centre (0 without a source above S/N 3).

Optical (the picture under the contours), with `sep` (SExtractor's algorithms; Barbary 2016) on
the optical channel, after undoing its asinh stretch:

* ``o_n_near``: objects detected above ``DETECT_SIGMA`` x the sky noise within the lowest
  contour (at least ``NEAR_MIN_ARCSEC``, at most ``NEAR_MAX_ARCSEC`` from the X-ray centroid);
* ``o_n_ext_near``: how many of them are extended (flux / peak ratio > 1.5 x the stellar
  locus: the field's bright objects, at most the seeing-limited PSF's ``2 pi sigma^2``);
* ``o_central_radius_arcsec``, ``o_central_snr``, ``o_central_extended``: the isophotal radius,
  peak S/N and shape of the object nearest the X-ray centroid within ``CENTRAL_ARCSEC`` (0 when
  there is none);
* ``o_near_snr``: median peak S/N of the objects near the centroid (how clearly they show).

Why ``sep`` rather than ``photutils``: both implement the same detection (background mesh,
threshold, deblending); ``sep`` runs SExtractor's C code on the array, 3.5 ms a 128 x 128 subject
where ``photutils``' ``detect_sources`` + ``SourceCatalog`` took 18 ms without deblending
(docs/mock-volunteers.md), and the cues are measured on every subject of every subject set.

Cues are cached per subject set in ``cues.parquet`` beside ``manifest.csv``, keyed by the SHA-1
of each tensor, so a second simulation reads them back instead of measuring.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from .._errors import InputError

log = logging.getLogger(__name__)

#: Bump when a cue's definition changes: cached cues of another version are measured again.
PERCEPTION_VERSION = 4
#: X-ray channel scale of the tensors (`hunt_clusters.subjects._tensors`).
XRAY_SOFTENING = 3.0
XRAY_SNR_MAX = 100.0
#: The lowest contour of the pictures (render's ``min_sigma`` default).
CONTOUR_SNR = 3.0
#: Where a person looks for "the" source: within 1' of the centre (render's ``peak_radius``).
CENTRE_RADIUS_ARCSEC = 60.0
#: Optical detection threshold (in sky sigma) and minimum area (pixels).
DETECT_SIGMA = 3.0
DETECT_MINAREA = 3
#: Optical objects count as "inside the contours" within the lowest contour's radius, clipped.
NEAR_MIN_ARCSEC = 20.0
NEAR_MAX_ARCSEC = 90.0
#: The object at the X-ray position: the nearest one within this distance.
CENTRAL_ARCSEC = 12.0
#: Gaussian sigma of a star in the tensor: DSS seeing 2.5" FWHM (mock-physics.md), the 1"
#: pixels and the tensor's anti-aliasing (one tensor pixel FWHM) added in quadrature, for 2.8"
#: tensor pixels: sqrt(1.06^2 + 2.81^2 / 12 + 1.19^2) [D].
PSF_SIGMA_ARCSEC = 1.8
#: Asinh stretch parameter of the optical channel (render's ``stretch_a`` default).
STRETCH_A = 0.1

#: The cue columns, in order.
CUE_COLUMNS: tuple[str, ...] = (
    "x_peak_snr",
    "x_radius_arcsec",
    "x_core_arcsec",
    "x_n_peaks",
    "x_edge",
    "x_offset_arcsec",
    "o_n_near",
    "o_n_ext_near",
    "o_near_snr",
    "o_central_radius_arcsec",
    "o_central_snr",
    "o_central_extended",
)
CUES_NAME = "cues.parquet"


def xray_snr(channel: np.ndarray) -> np.ndarray:
    """The S/N map behind the tensors' X-ray channel (exact up to S/N 100, where the channel clips).

    Examples
    --------
    >>> x = np.arcsinh(np.array([0.0, 3.0, 30.0]) / 3.0) / np.arcsinh(100.0 / 3.0)
    >>> np.round(xray_snr(x), 6).tolist()
    [0.0, 3.0, 30.0]
    """
    return XRAY_SOFTENING * np.sinh(np.asarray(channel, dtype=np.float64) * np.arcsinh(XRAY_SNR_MAX / XRAY_SOFTENING))


def _linear_optical(channel: np.ndarray) -> np.ndarray:
    """Undo the asinh stretch of the optical channel (values in interval units, 0-1)."""
    y = np.asarray(channel, dtype=np.float64)
    return STRETCH_A * np.sinh(y * np.arcsinh(1.0 / STRETCH_A))


def _equivalent_radius(mask: np.ndarray, scale: float) -> float:
    return float(np.sqrt(mask.sum() / np.pi) * scale)


def _xray_cues(snr: np.ndarray, scale: float) -> tuple[dict[str, float], np.ndarray, tuple[float, float]]:
    """X-ray cues, the lowest-contour region and the S/N-weighted centroid (x, y pixels)."""
    n = snr.shape[0]
    c = (n - 1) / 2.0
    yy, xx = np.mgrid[:n, :n]
    r = np.hypot(xx - c, yy - c) * scale
    centre = r <= CENTRE_RADIUS_ARCSEC
    masked = np.where(centre, snr, -np.inf)
    iy, ix = np.unravel_index(int(np.argmax(masked)), snr.shape)
    peak = float(min(snr[iy, ix], XRAY_SNR_MAX))
    cues = {
        "x_peak_snr": peak,
        "x_radius_arcsec": 0.0,
        "x_core_arcsec": 0.0,
        "x_n_peaks": 0.0,
        "x_edge": 0.0,
        "x_offset_arcsec": 0.0,
    }
    region = np.zeros(snr.shape, dtype=bool)
    centroid = (c, c)
    if peak < CONTOUR_SNR:
        return cues, region, centroid
    labels, _ = ndimage.label(snr >= CONTOUR_SNR)
    region = labels == labels[iy, ix]
    half, _ = ndimage.label(snr >= peak / 2.0)
    core = half == half[iy, ix]
    w = np.where(region, snr, 0.0)
    centroid = (float((w * xx).sum() / w.sum()), float((w * yy).sum() / w.sum()))
    # separate blobs of comparable brightness within 1' of the centre: islands above 60 % of the
    # peak (and S/N 5), 6+ pixels each, whose own maximum reaches 75 % of the peak (noise in a
    # faint cluster's plateau and a faint source beside a bright one do not count)
    blobs, nb = ndimage.label(centre & (snr >= max(5.0, 0.6 * peak)))
    n_peaks = 0
    if nb:
        idx = np.arange(1, nb + 1)
        size = ndimage.sum(np.ones_like(snr), blobs, idx)
        top = ndimage.maximum(snr, blobs, idx)
        n_peaks = int(((size >= 6) & (top >= 0.75 * peak)).sum())
    # the outline of the contour: region pixels with a neighbour outside it; along "no data"
    # (exactly 0: no exposure) or the tensor's border
    inner = ndimage.binary_erosion(region, border_value=0)
    outline = region & ~inner
    border = np.zeros_like(region)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    on_edge = outline & (border | _empty_strip(snr))
    cues.update(
        x_radius_arcsec=_equivalent_radius(region, scale),
        x_core_arcsec=_equivalent_radius(core, scale),
        x_n_peaks=float(max(1, n_peaks)),
        x_offset_arcsec=float(r[iy, ix]),
        x_edge=float(on_edge.sum() / max(1, outline.sum())),
    )
    return cues, region, centroid


def _empty_strip(snr: np.ndarray) -> np.ndarray:
    """Pixels next to a patch of exact zeros covering >= 15 % of the tensor: the field of view's edge.

    Below the background the tensor's X-ray channel is also 0, but in scattered small patches;
    beyond the detector's edge it is 0 over a large connected area.
    """
    zero = snr == 0.0
    labels, n = ndimage.label(zero)
    if n == 0:
        return np.zeros_like(zero)
    sizes = ndimage.sum(zero, labels, index=np.arange(1, n + 1))
    big = np.isin(labels, 1 + np.flatnonzero(sizes >= 0.15 * zero.size))
    return ndimage.binary_dilation(big, iterations=2)


def _optical_cues(opt: np.ndarray, scale: float, region: np.ndarray, centroid: tuple[float, float],
                  x_radius: float) -> dict[str, float]:
    import sep

    data = np.ascontiguousarray(_linear_optical(opt), dtype=np.float64)
    cues = {k: 0.0 for k in CUE_COLUMNS if k.startswith("o_")}
    if not np.isfinite(data).all() or float(data.std()) == 0.0:
        return cues
    bkg = sep.Background(data, bw=32, bh=32, fw=3, fh=3)
    sub = data - bkg.back()
    rms = float(bkg.globalrms)
    if not rms > 0:
        return cues
    try:
        objs = sep.extract(sub, DETECT_SIGMA, err=rms, minarea=DETECT_MINAREA, deblend_cont=0.005)
    except Exception:  # sep raises for pathological fields (too many objects): see nothing
        log.debug("sep extraction failed", exc_info=True)
        return cues
    if len(objs) == 0:
        return cues
    x, y = objs["x"], objs["y"]
    peak_snr = objs["peak"] / rms
    ratio = objs["flux"] / np.maximum(objs["peak"], 1e-12)
    bright = peak_snr >= 10.0
    # star-like objects have flux / peak = 2 pi sigma^2 of the PSF: the field's stellar locus (a
    # quarter of its bright objects), at most that of the seeing-limited PSF resampled to the tensor
    psf = PSF_SIGMA_ARCSEC / scale
    locus = 2.0 * np.pi * max(psf, 0.5) ** 2
    if bright.sum() >= 3:
        locus = min(locus, float(np.percentile(ratio[bright], 25)))
    extended = ratio > 1.5 * locus
    radius = np.sqrt(objs["npix"] / np.pi) * scale
    d = np.hypot(x - centroid[0], y - centroid[1]) * scale
    near_r = float(np.clip(x_radius, NEAR_MIN_ARCSEC, NEAR_MAX_ARCSEC))
    near = d <= near_r
    cues["o_n_near"] = float(near.sum())
    cues["o_n_ext_near"] = float((near & extended).sum())
    cues["o_near_snr"] = float(np.median(peak_snr[near])) if near.any() else 0.0
    cand = np.flatnonzero(d <= CENTRAL_ARCSEC)
    if cand.size:
        j = int(cand[np.argmin(d[cand])])
        cues["o_central_radius_arcsec"] = float(radius[j])
        cues["o_central_snr"] = float(peak_snr[j])
        cues["o_central_extended"] = float(extended[j])
    return cues


def measure_cues(tensor: np.ndarray, pixel_scale_arcsec: float) -> dict[str, float]:
    """The cues of one subject (see the module docstring).

    Parameters
    ----------
    tensor : numpy.ndarray
        ``(S, S, 2)``: channels [optical, X-ray] as `hunt_clusters.subjects.make_tensor` writes them.
    pixel_scale_arcsec : float
        Arcsec per tensor pixel (``pixel_scale_arcsec`` of ``tensors.npz``).

    Returns
    -------
    dict
        One float per name of `CUE_COLUMNS`.

    Examples
    --------
    >>> t = np.zeros((64, 64, 2), dtype=np.float32)
    >>> measure_cues(t, 5.6)["x_peak_snr"]
    0.0
    """
    t = np.asarray(tensor)
    if t.ndim != 3 or t.shape[2] != 2 or t.shape[0] != t.shape[1]:
        raise InputError(f"a subject tensor has shape {t.shape}; expected (S, S, 2) [optical, X-ray]")
    snr = xray_snr(t[..., 1])
    xc, region, centroid = _xray_cues(snr, float(pixel_scale_arcsec))
    oc = _optical_cues(t[..., 0], float(pixel_scale_arcsec), region, centroid, xc["x_radius_arcsec"])
    return {k: float({**xc, **oc}[k]) for k in CUE_COLUMNS}


def tensor_checksum(tensor: np.ndarray, pixel_scale_arcsec: float) -> str:
    """SHA-1 of a tensor's bytes, its shape, its pixel scale and `PERCEPTION_VERSION` (the cache key)."""
    t = np.ascontiguousarray(tensor, dtype=np.float32)
    h = hashlib.sha1(t.tobytes())
    h.update(f"{t.shape}|{float(pixel_scale_arcsec)!r}|v{PERCEPTION_VERSION}".encode())
    return h.hexdigest()


#: Tensors being measured, inherited by forked workers.
_TENSORS: np.ndarray | None = None
_SCALE = 0.0


def _measure_index(i: int) -> dict[str, float]:
    assert _TENSORS is not None
    return measure_cues(_TENSORS[i], _SCALE)


def measure_many(tensors: np.ndarray, pixel_scale_arcsec: float, *, jobs: int = 1) -> pd.DataFrame:
    """`measure_cues` of each tensor, in order (``jobs`` forked processes where the platform forks)."""
    global _TENSORS, _SCALE
    n = len(tensors)
    if jobs > 1 and n > 50 and "fork" in multiprocessing.get_all_start_methods():
        _TENSORS, _SCALE = tensors, float(pixel_scale_arcsec)
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                rows = pool.map(_measure_index, range(n), chunksize=max(1, n // (8 * jobs)))
        finally:
            _TENSORS = None
    else:
        rows = [measure_cues(t, pixel_scale_arcsec) for t in tensors]
    return pd.DataFrame(rows, columns=list(CUE_COLUMNS)).astype(np.float64)


def subject_set_cues(subject_set: str | Path, candidate_ids: Sequence[str] | None = None, *, jobs: int = 1,
                     cache: bool = True) -> pd.DataFrame:
    """The cues of a subject set's subjects, measured on its ``tensors.npz`` (cached in ``cues.parquet``).

    Parameters
    ----------
    subject_set : str or Path
        The subject set folder (``manifest.csv``, ``tensors.npz``) or its manifest.
    candidate_ids : sequence of str, optional
        Only these candidates, in this order (default: every tensor, in file order).
    jobs : int
        Processes measuring uncached subjects.
    cache : bool
        Read and update ``cues.parquet`` beside the manifest.

    Returns
    -------
    pandas.DataFrame
        ``candidate_id``, ``checksum`` and the `CUE_COLUMNS`.

    Raises
    ------
    InputError
        No ``tensors.npz``, or a candidate without a tensor.
    """
    p = Path(subject_set)
    folder = p if p.is_dir() else p.parent
    path = folder / "tensors.npz"
    if not path.is_file():
        raise InputError(
            f"{folder}: no tensors.npz; the mock observers look at the rendered subjects "
            "(render the subject set without --no-tensors)"
        )
    t0 = time.perf_counter()
    try:
        with np.load(path) as npz:
            x = npz["x"]
            ids = npz["candidate_id"].astype(str)
            scale = float(npz["pixel_scale_arcsec"]) if "pixel_scale_arcsec" in npz.files else 360.0 / x.shape[1]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: cannot read the tensors ({exc})") from None
    if candidate_ids is not None:
        pos = pd.Index(ids).get_indexer(list(candidate_ids))
        if (pos < 0).any():
            i = int(np.flatnonzero(pos < 0)[0])
            raise InputError(f"{path}: no tensor for candidate {list(candidate_ids)[i]!r}; render the subject set again")
        x, ids = x[pos], ids[pos]
    sums = np.array([tensor_checksum(t, scale) for t in x], dtype=object)
    cache_path = folder / CUES_NAME
    known = pd.DataFrame(columns=["checksum", *CUE_COLUMNS])
    if cache and cache_path.is_file():
        try:
            known = pd.read_parquet(cache_path)
            if list(known.columns) != ["checksum", *CUE_COLUMNS]:
                known = pd.DataFrame(columns=["checksum", *CUE_COLUMNS])
        except Exception:  # a broken cache is measured again
            log.warning("%s: unreadable cue cache; measuring again", cache_path)
    known = known.drop_duplicates("checksum").set_index("checksum").astype(np.float64)
    todo = np.flatnonzero(~pd.Index(sums).isin(known.index))
    if todo.size:
        new = measure_many(x[todo], scale, jobs=jobs)
        new.index = pd.Index(sums[todo], name="checksum")
        new = new[~new.index.duplicated()]
        known = pd.concat([known, new]) if len(known) else new
        if cache:
            tmp = cache_path.with_name(CUES_NAME + ".part")
            known.reset_index().rename(columns={"index": "checksum"}).to_parquet(tmp, index=False)
            tmp.replace(cache_path)
    out = known.loc[list(sums), list(CUE_COLUMNS)].reset_index(drop=True).astype(np.float64)
    out.insert(0, "checksum", sums)
    out.insert(0, "candidate_id", ids)
    log.info("cues of %d subjects (%d measured) in %.1f s", len(out), todo.size, time.perf_counter() - t0)
    return out


__all__ = [
    "CUES_NAME",
    "CUE_COLUMNS",
    "PERCEPTION_VERSION",
    "measure_cues",
    "measure_many",
    "subject_set_cues",
    "tensor_checksum",
    "xray_snr",
]
