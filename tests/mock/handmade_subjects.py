"""Hand-made rendered subjects with known content: tensors in the render's units, and subject sets.

X-ray blobs are Gaussians given by their peak S/N and width; optical objects are Gaussians over a
flat noisy sky, stretched as the render stretches (asinh, a = 0.1). Used by the perception,
observer and volunteer tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

SIZE = 128
SCALE = 360.0 / SIZE  # arcsec per pixel: 6' over 128 px, the render default
CENTRE = (SIZE - 1) / 2.0


@dataclass(frozen=True)
class Scene:
    """X-ray blobs ``(dx, dy, sigma, peak_snr)`` and optical objects ``(dx, dy, sigma, amplitude)``.

    Offsets and widths in arcsec from pixel (64, 64) (x right, y down; rounded down to a pixel
    centre), amplitudes in the
    linear optical units of the channel (the sky is at 0.05 with noise 0.005).
    """

    xray: tuple[tuple[float, float, float, float], ...] = ()
    optical: tuple[tuple[float, float, float, float], ...] = ()
    no_xray_right_of: float | None = None  # arcsec: no X-ray data right of this offset
    noise_seed: int = 0


def _gauss(dx: float, dy: float, sigma: float) -> np.ndarray:
    yy, xx = np.mgrid[:SIZE, :SIZE]
    # centred on a pixel (64, 64 for no offset), so that peaks are sampled exactly
    cx, cy = np.floor(CENTRE + 1 + dx / SCALE), np.floor(CENTRE + 1 + dy / SCALE)
    return np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2.0 * (sigma / SCALE) ** 2))


def tensor(scene: Scene) -> np.ndarray:
    """The ``(128, 128, 2)`` float32 tensor of a scene, in render units."""
    snr = np.zeros((SIZE, SIZE))
    for dx, dy, sigma, peak in scene.xray:
        snr += peak * _gauss(dx, dy, sigma)
    x = np.arcsinh(np.clip(snr, 0, None) / 3.0) / np.arcsinh(100.0 / 3.0)
    x = np.clip(x, 0.0, 1.0)
    if scene.no_xray_right_of is not None:
        x[:, int(round(CENTRE + scene.no_xray_right_of / SCALE)):] = 0.0
    rng = np.random.default_rng(scene.noise_seed)
    lin = 0.05 + rng.normal(0.0, 0.005, (SIZE, SIZE))
    for dx, dy, sigma, amp in scene.optical:
        lin += amp * _gauss(dx, dy, sigma)
    opt = np.arcsinh(np.clip(lin, 0, 1) / 0.1) / np.arcsinh(1.0 / 0.1)
    return np.stack([opt, x], axis=-1).astype(np.float32)


#: Scenes a person would call each class.
CLUSTER_LOWZ = Scene(xray=((0, 0, 25.0, 30.0),),
                     optical=tuple((dx, dy, 4.0, 0.4) for dx, dy in ((5, 3), (-20, 10), (15, -18), (-10, -25), (28, 20))))
CLUSTER_HIZ = Scene(xray=((0, 0, 25.0, 30.0),))
GALAXY = Scene(xray=((0, 0, 8.0, 60.0),), optical=((1, 1, 9.0, 0.8),))
POINT = Scene(xray=((0, 0, 5.0, 80.0),), optical=((0, 0, 2.0, 0.3),))
PAIR = Scene(xray=((-25, 0, 6.0, 40.0), (25, 0, 6.0, 40.0)))
NOISE = Scene(xray=((0, 0, 6.0, 3.5),))


def write_subject_set(folder: Path, scenes: list[Scene], ids: list[str] | None = None) -> Path:
    """A rendered subject set: ``manifest.csv`` and ``tensors.npz`` (no pictures)."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = ids or [f"XCLASS-{i:04d}" for i in range(len(scenes))]
    x = np.stack([tensor(s) for s in scenes])
    ra = np.linspace(10.0, 20.0, len(scenes))
    dec = np.linspace(-5.0, 5.0, len(scenes))
    np.savez(folder / "tensors.npz", x=x, candidate_id=np.array(ids, dtype=str), ra=ra, dec=dec,
             channels=np.array(["optical", "xray"]), pixel_scale_arcsec=np.float64(SCALE))
    pd.DataFrame({"image": [f"{c}.jpg" for c in ids], "#candidate_id": ids,
                  "#ra": [f"{v:.6f}" for v in ra], "#dec": [f"{v:.6f}" for v in dec]}).to_csv(
        folder / "manifest.csv", index=False)
    return folder


def mixed_scenes(n: int, seed: int = 0) -> list[Scene]:
    """``n`` scenes cycling through the classes, each with its own noise."""
    base = [CLUSTER_LOWZ, CLUSTER_HIZ, GALAXY, POINT, PAIR, NOISE]
    return [Scene(base[i % len(base)].xray, base[i % len(base)].optical, None, seed * 1000 + i) for i in range(n)]


__all__ = ["SCALE", "SIZE", "Scene", "mixed_scenes", "tensor", "write_subject_set"]
