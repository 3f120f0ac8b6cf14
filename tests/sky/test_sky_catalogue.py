"""Candidate catalogues: every format, every column spelling, and each bad input with its message."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table

from hunt_clusters._errors import InputError
from hunt_clusters.sky import CONTRACT_COLUMNS, read_candidates

# 14:29:56.0 -62:41:05 = (217.483333..., -62.684722...) by hand: 14.498889 h * 15; 62 + 41/60 + 5/3600
RA_HMS = 15 * (14 + 29 / 60 + 56.0 / 3600)
DEC_DMS = -(62 + 41 / 60 + 5 / 3600)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _table() -> Table:
    return Table(
        {
            "candidate_id": ["XC001", "XC002", "XC003"],
            "ra": [210.2588, 149.5913, 194.95],
            "dec": [2.8786, -11.0644, 27.98],
            "expert_class": ["low-z", "", "galaxy"],
            "redshift": [0.253, 0.167, 0.023],
        }
    )


@pytest.mark.parametrize(
    ("suffix", "fmt"),
    [(".csv", "ascii.csv"), (".ecsv", "ascii.ecsv"), (".fits", "fits"), (".fits.gz", "fits"), (".xml", "votable"),
     (".vot", "votable")],
)
def test_each_format_reads_the_same(tmp_path: Path, suffix: str, fmt: str) -> None:
    path = tmp_path / f"cands{suffix}"
    _table().write(path, format=fmt)
    t = read_candidates(path)
    assert t.colnames == ["candidate_id", "ra", "dec", "redshift", "expert_class"]
    assert list(t["candidate_id"]) == ["XC001", "XC002", "XC003"]
    np.testing.assert_array_equal(t["ra"], [210.2588, 149.5913, 194.95])
    np.testing.assert_array_equal(t["dec"], [2.8786, -11.0644, 27.98])
    assert t["ra"].unit == u.deg and t["ra"].dtype == np.float64
    assert list(t["expert_class"]) == ["low-z", "", "galaxy"]
    assert t.meta["base_dir"] == str(tmp_path.resolve())
    assert t.meta["source"] == str(path)


@pytest.mark.parametrize(
    ("ra_name", "dec_name"),
    [("RA", "Dec"), ("ra", "dec"), ("RAJ2000", "DEJ2000"), ("RA_deg", "Dec_deg"), ("_RAJ2000", "_DEJ2000"),
     ("ALPHA_J2000", "DELTA_J2000"), ("RA_ICRS", "DE_ICRS"), ("ra_j2000", "dec_j2000")],
)
def test_position_spellings(tmp_path: Path, ra_name: str, dec_name: str) -> None:
    path = write_csv(tmp_path / "c.csv", f"candidate_id,{ra_name},{dec_name}\na,10.5,-3.25\n")
    t = read_candidates(path)
    assert (float(t["ra"][0]), float(t["dec"][0])) == (10.5, -3.25)
    assert t.colnames == ["candidate_id", "ra", "dec"]


@pytest.mark.parametrize("id_name", ["candidate_id", "id", "ID", "name", "NAME", "XCLASS", "source_id"])
def test_id_spellings(tmp_path: Path, id_name: str) -> None:
    t = read_candidates(write_csv(tmp_path / "c.csv", f"{id_name},ra,dec\n2009,10,20\n0042,11,21\n"))
    assert list(t["candidate_id"]) == ["2009", "0042"]  # read as text: leading zeros kept
    assert t["candidate_id"].dtype.kind == "U"


def test_integer_ids_from_fits_become_text(tmp_path: Path) -> None:
    path = tmp_path / "c.fits"
    Table({"XCLASS": [2009, 17], "RA": [10.0, 11.0], "DEC": [20.0, 21.0]}).write(path)
    assert list(read_candidates(path)["candidate_id"]) == ["2009", "17"]


@pytest.mark.parametrize(
    ("ra_text", "dec_text"),
    [("14:29:56.0", "-62:41:05"), ("14h29m56s", "-62d41m05s"), ("14 29 56.0", "-62 41 05")],
)
def test_sexagesimal_strings(tmp_path: Path, ra_text: str, dec_text: str) -> None:
    t = read_candidates(write_csv(tmp_path / "c.csv", f'name,RA,DEC\nx,"{ra_text}","{dec_text}"\n'))
    assert float(t["ra"][0]) == pytest.approx(RA_HMS, abs=1e-10)
    assert float(t["dec"][0]) == pytest.approx(DEC_DMS, abs=1e-10)
    assert RA_HMS == pytest.approx(217.4833333, abs=1e-7)


def test_unusual_sexagesimal_goes_through_astropy(tmp_path: Path) -> None:
    t = read_candidates(write_csv(tmp_path / "c.csv", "name,RA,DEC\nx,14h30m,-62d30m\ny,1:02:03,-0:30:00\n"))
    assert float(t["ra"][0]) == pytest.approx(217.5, abs=1e-12)
    assert float(t["dec"][0]) == pytest.approx(-62.5, abs=1e-12)
    assert float(t["ra"][1]) == pytest.approx(15 * (1 + 2 / 60 + 3 / 3600), abs=1e-12)
    assert float(t["dec"][1]) == pytest.approx(-0.5, abs=1e-12)  # the sign of "-0" degrees is kept


def test_comment_lines_before_the_header(tmp_path: Path) -> None:
    t = read_candidates(write_csv(tmp_path / "c.csv", "# written by XAmin\n# units: deg\nid,ra,dec\n007,1,2\n"))
    assert list(t["candidate_id"]) == ["007"]


def test_decimal_strings_are_degrees(tmp_path: Path) -> None:
    path = tmp_path / "c.ecsv"
    Table({"id": ["a"], "ra": ["217.5"], "dec": ["-62.5"]}).write(path)
    t = read_candidates(path)
    assert (float(t["ra"][0]), float(t["dec"][0])) == (217.5, -62.5)


def test_column_unit_is_converted_to_degrees(tmp_path: Path) -> None:
    path = tmp_path / "c.ecsv"
    t = Table({"id": ["a"], "ra": [np.pi] * u.rad, "dec": [30.0] * u.arcmin})
    t.write(path)
    out = read_candidates(path)
    assert float(out["ra"][0]) == pytest.approx(180.0, abs=1e-12)
    assert float(out["dec"][0]) == pytest.approx(0.5, abs=1e-12)


def test_all_contract_columns_and_extras(tmp_path: Path) -> None:
    (tmp_path / "xray").mkdir()
    (tmp_path / "xray" / "a.fits.gz").write_bytes(b"")
    path = write_csv(
        tmp_path / "c.csv",
        "candidate_id,ra,dec,xray_image,optical_image,extent_arcsec,ext_like,count_rate,redshift,expert_class,"
        "spec_class,true_class,in_test\n"
        "a,1,2,xray/a.fits.gz,,30.5,45,0.01,0.3,Low-Z,Cluster,hi-z,True\n"
        "b,3,4,,,,,,,,,,False\n",
    )
    t = read_candidates(path)
    assert t.colnames == list(CONTRACT_COLUMNS) + ["in_test"]
    assert t["xray_image"][0] == str(tmp_path.resolve() / "xray" / "a.fits.gz")
    assert list(t["optical_image"]) == ["", ""]
    assert float(t["extent_arcsec"][0]) == 30.5 and np.isnan(t["extent_arcsec"][1])
    assert list(t["expert_class"]) == ["low-z", ""]  # case folded
    assert list(t["spec_class"]) == ["cluster", ""]
    assert list(t["in_test"]) == [True, False]  # other columns as read


def test_aliases_for_optional_columns(tmp_path: Path) -> None:
    t = read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec,z,EXT,RATE,class\na,1,2,0.5,20,0.1,point\n"))
    assert (float(t["redshift"][0]), float(t["extent_arcsec"][0]), float(t["count_rate"][0])) == (0.5, 20.0, 0.1)
    assert t["expert_class"][0] == "point"


def test_in_memory_table() -> None:
    t = read_candidates(_table())
    assert t.meta["source"] == "<Table>"
    assert len(t) == 3


def test_validate_false_skips_range_checks(tmp_path: Path) -> None:
    t = read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec\na,400,2\na,1,2\n"), validate=False)
    assert list(t["ra"]) == [400.0, 1.0]


# --- bad input: one test each -------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.csv: file not found \(expected a candidate catalogue"):
        read_candidates(tmp_path / "nope.csv")


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "c.fits"
    path.write_bytes(b"\x00\x01garbage")
    with pytest.raises(InputError, match=r"c\.fits: cannot read it as a table"):
        read_candidates(path)


def test_empty_table(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"c\.csv: the table has no rows"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec\n"))


def test_table_without_ra(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"c\.csv: no RA column \(columns: id, lon, dec\); expected one of ra, ra_deg"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,lon,dec\na,1,2\n"))


def test_table_without_dec(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no Dec column"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,ra,lat\na,1,2\n"))


def test_table_without_ids(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no ids column .* expected one of candidate_id, cand_id"):
        read_candidates(write_csv(tmp_path / "c.csv", "ra,dec\n1,2\n"))


def test_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"c\.csv: row 3: candidate_id 'a' repeats row 1; ids must be unique"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec\na,1,2\nb,1,2\na,1,2\n"))


def test_empty_id(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"row 2: candidate_id is empty"):
        read_candidates(write_csv(tmp_path / "c.csv", "name,ra,dec\na,1,2\n,1,2\n"))


def test_ra_of_360(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"c\.csv: row 2: ra = 360\.0 is outside \[0, 360\) degrees"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec\na,1,2\nb,360,2\n"))


def test_negative_ra(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"row 1: ra = -0\.5 is outside"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec\na,-0.5,2\n"))


def test_dec_beyond_the_pole(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"c\.csv: row 1: dec = 91\.0 is outside \[-90, 90\] degrees"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec\na,1,91\n"))


def test_empty_ra(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"c\.csv: row 2: ra is empty; every candidate needs RA"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec\na,1,2\nb,,2\n"))


def test_bad_sexagesimal(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"row 2: RA = '14:61:xx' is not an angle; expected '14:29:56\.0', '14h29m56s' or degrees$"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,RA,DEC\na,14:00:00,+02:00:00\nb,14:61:xx,+02:00:00\n"))


def test_unknown_expert_class(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match=r"row 1: expert_class = 'cluster' is not a known class; expected one of low-z, hi-z, galaxy, point, other or empty"
    ):
        read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec,expert_class\na,1,2,cluster\n"))


def test_unknown_true_class(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"row 2: true_class = 'agn' is not a known class"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec,true_class\na,1,2,point\nb,1,2,agn\n"))


def test_unknown_spec_class(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"row 1: spec_class = 'maybe' is not a known class; expected one of cluster, non-cluster or empty"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec,spec_class\na,1,2,maybe\n"))


def test_non_numeric_redshift(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"row 1: redshift = 'high' is not a number"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec,redshift\na,1,2,high\n"))


def test_missing_image_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"c\.csv: row 1: xray_image 'xray/a\.fits' not found \(looked for .*xray/a\.fits\)"):
        read_candidates(write_csv(tmp_path / "c.csv", "id,ra,dec,xray_image\na,1,2,xray/a.fits\n"))
