"""Write the pictures of docs/render.md from the real files in ../shared/data/real/.

Usage (from the project root)::

    python benchmarks/render_doc_images.py

Writes docs/img/coma_rass_over_dss.png (ROSAT All-Sky Survey counts of Coma over the SkyView DSS
image of Coma, 50' field), docs/img/a1835_xmm.png (the XMM MOS2 image of Abell 1835 with its
exposure and background maps, over a synthetic star field at the same position) and
docs/img/coma_worked_example.jpg (the worked example of docs/render.md: the command a user runs on a
candidate table of Coma).

With ``--sheet NAME --survey DIR`` it writes docs/img/contact_sheet_NAME.jpg instead: 3 subjects
per class of the mock survey in DIR, rendered with the default options of the code it runs on. The
"before" sheet of docs/render.md was made by running this script on the code before issue 11
(``git archive 163a8b8 hunt_clusters | tar -x -C /tmp/before``, then
``PYTHONPATH=/tmp/before python benchmarks/render_doc_images.py --sheet before --survey DIR``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real"
sys.path.insert(0, str(ROOT / "tests" / "subjects"))


COMA_TABLE = """candidate_id,ra,dec,xray_image,optical_image
Coma,194.95,27.95,rosat/rass_hard_counts_coma.fits,dss/skyview_dss_coma_A1656.fits
Coma-intensity,194.95,27.95,rosat/rass_broad_intensity_coma.fits,dss/skyview_dss_coma_A1656.fits
"""
#: The options the worked example needs (docs/render.md): a 45" RASS pixel wants a large field
COMA_OPTIONS = ["--fov", "50", "--smooth", "60", "--scale-bar", "10", "--peak-radius", "5"]


def worked_example(out: Path) -> None:
    """The Coma worked example of docs/render.md, through the command a user types."""
    import shutil
    import tempfile

    from hunt_clusters.cli import main as cli

    folder = Path(tempfile.mkdtemp(prefix="coma_"))
    table = REAL / "coma_candidates.csv"  # the table of the doc, beside the files it names
    tmp_table = folder / "coma_candidates.csv"
    tmp_table.write_text(COMA_TABLE)
    for sub in ("rosat", "dss"):
        (folder / sub).symlink_to(REAL / sub)
    rc = cli(["render", str(tmp_table), "--out", str(folder / "coma"), *COMA_OPTIONS])
    print("worked example exit status", rc, "(table as", table, "would be)")
    shutil.copyfile(folder / "coma" / "Coma.jpg", out / "coma_worked_example.jpg")


def sheet(name: str, survey: Path) -> None:
    """Contact sheet of 3 subjects per class of a mock survey with the default options."""
    import tempfile

    from astropy.table import Table

    from hunt_clusters.subjects import class_captions, contact_sheet, render_subject_set

    t = Table.read(survey / "candidates.ecsv")
    ids: list[str] = []
    for cls in ("low-z", "hi-z", "galaxy", "point", "other"):
        ids += [str(r["candidate_id"]) for r in t[t["true_class"] == cls][:3]]
    folder = Path(tempfile.mkdtemp(prefix=f"sheet_{name}_"))
    render_subject_set(survey / "candidates.ecsv", folder, candidates=ids, tensors=False)
    caps = class_captions(t)
    contact_sheet(folder, caps, ROOT / "docs" / "img" / f"contact_sheet_{name}.jpg", per_class=3, thumb=200)
    print("wrote", ROOT / "docs" / "img" / f"contact_sheet_{name}.jpg")


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sheet", help="write docs/img/contact_sheet_SHEET.jpg only")
    ap.add_argument("--survey", type=Path, help="mock survey folder for --sheet")
    args = ap.parse_args()
    if args.sheet:
        sheet(args.sheet, args.survey)
        return
    from subjects_synth import gaussian_blob, tan_wcs

    from hunt_clusters.subjects import RenderConfig, encode_subject, render_overlay

    out = ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    cfg = RenderConfig(fov_arcmin=50, smooth_arcsec=60, scale_bar_arcmin=10, format="png")
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
    cfg = RenderConfig(fov_arcmin=7, format="png")
    ov = render_overlay((sky, tan_wcs(ra, dec, 1.0, n, rot_deg=10.0)),
                        REAL / "xmm" / "P0098010101M2U009IMAGE_3000.FTZ", ra, dec, cfg)
    data, _ = encode_subject(ov.image, cfg)
    (out / "a1835_xmm.png").write_bytes(data)
    worked_example(out)
    print("wrote", out / "coma_rass_over_dss.png", out / "a1835_xmm.png", "and", out / "coma_worked_example.jpg")


if __name__ == "__main__":
    main()
