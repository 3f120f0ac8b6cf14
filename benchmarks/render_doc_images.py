"""Write the pictures of docs/render.md from the real files in ../shared/data/real/.

Usage (from the project root)::

    python benchmarks/render_doc_images.py

Writes docs/img/coma_rass_over_dss.png (ROSAT All-Sky Survey counts of Coma over the SkyView DSS
image of Coma, 50' field) and docs/img/a1835_xmm.png (the XMM MOS2 image of Abell 1835 with its
exposure and background maps, over a synthetic star field at the same position).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real"
sys.path.insert(0, str(ROOT / "tests" / "subjects"))


def main() -> None:
    from subjects_synth import gaussian_blob, tan_wcs

    from hunt_clusters.subjects import RenderConfig, encode_subject, render_overlay

    out = ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    cfg = RenderConfig(fov_arcmin=50, smooth_arcsec=60, scale_bar_arcmin=10)
    ov = render_overlay(REAL / "dss" / "skyview_dss_coma_A1656.fits",
                        REAL / "rosat" / "rass_hard_counts_coma.fits", 194.95, 27.95, cfg)
    data, _ = encode_subject(ov.image, cfg)
    (out / "coma_rass_over_dss.png").write_bytes(data)
    print("levels (counts/pixel above background):", np.round(ov.contours.levels, 3))

    ra, dec = 210.2588, 2.8786
    rng = np.random.default_rng(11)
    n = 480
    sky = rng.normal(1000.0, 10.0, (n, n))
    for _ in range(60):
        sky += gaussian_blob((n, n), rng.uniform(0, n), rng.uniform(0, n), 1.6, rng.uniform(100, 3000))
    cfg = RenderConfig(fov_arcmin=7)
    ov = render_overlay((sky, tan_wcs(ra, dec, 1.0, n, rot_deg=10.0)),
                        REAL / "xmm" / "P0098010101M2U009IMAGE_3000.FTZ", ra, dec, cfg)
    data, _ = encode_subject(ov.image, cfg)
    (out / "a1835_xmm.png").write_bytes(data)
    print("wrote", out / "coma_rass_over_dss.png", "and", out / "a1835_xmm.png")


if __name__ == "__main__":
    main()
