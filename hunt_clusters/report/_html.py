"""HTML pieces of the report: one self-contained page, inline CSS, images as data URIs, no JavaScript."""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1180px;
       padding: 0 24px 48px; color: #1b1f23; line-height: 1.45; }
h1 { margin-top: 28px; } h2 { border-bottom: 2px solid #d0d7de; padding-bottom: 4px; margin-top: 40px; }
h3 { margin-top: 26px; }
nav ol { columns: 2; }
table.tbl { border-collapse: collapse; margin: 10px 0 16px; font-size: 14px; }
table.tbl th, table.tbl td { border: 1px solid #d0d7de; padding: 4px 9px; text-align: right; }
table.tbl th { background: #f6f8fa; }
table.tbl td:first-child, table.tbl th:first-child { text-align: left; }
table.text th, table.text td { text-align: left; }
tr.reference td { font-style: italic; background: #fff8e1; }
tr.baseline td { background: #f3f8ff; }
figure { margin: 12px 0 20px; } figure img { max-width: 100%; border: 1px solid #eaeef2; }
figcaption { font-size: 13px; color: #57606a; max-width: 900px; }
.note { background: #fff4e5; border-left: 4px solid #e69f00; padding: 6px 12px; margin: 10px 0; font-size: 14px; }
.gallery { display: flex; flex-wrap: wrap; gap: 10px; margin: 6px 0 14px; }
.thumb { width: 164px; font-size: 12px; color: #333; }
.thumb img { width: 160px; height: 160px; object-fit: contain; border: 1px solid #ccc; background: #000; }
.thumb .missing { width: 158px; height: 158px; border: 1px dashed #999; display: flex; align-items: center;
                  justify-content: center; text-align: center; color: #777; background: #f6f6f6; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 12px; }
.small { font-size: 13px; color: #57606a; }
"""


def esc(x: Any) -> str:
    """HTML-escaped text of a value."""
    return html.escape(str(x), quote=True)


def fmt(x: Any, *, pct: bool = False, digits: int = 3) -> str:
    """A number as shown in the page: ``-`` where absent, percentages with one decimal."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int | float):
        if pct:
            return f"{100 * float(x):.1f}%"
        return str(x) if isinstance(x, int) else f"{x:.{digits}f}"
    return str(x)


def fmt_pm(mean: Any, std: Any, *, pct: bool = True) -> str:
    """``mean ± std`` (percentages by default); the mean alone where there is no spread."""
    if mean is None:
        return "–"
    if std is None:
        return fmt(mean, pct=pct)
    return f"{fmt(mean, pct=pct)} ± {fmt(std, pct=pct)}"


def data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,...`` URI of PNG bytes."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def figure(png: bytes, caption: str, alt: str) -> str:
    """A figure with its caption (``caption`` is HTML)."""
    return f'<figure><img src="{data_uri(png)}" alt="{esc(alt)}"><figcaption>{caption}</figcaption></figure>'


def table(df: pd.DataFrame, *, row_classes: Sequence[str] | None = None, text_columns: bool = False) -> str:
    """A pandas table as HTML (escaped, no index); ``row_classes`` set a CSS class per row;
    ``text_columns`` aligns every column left (a table of sentences rather than numbers)."""
    text = df.to_html(index=False, escape=True, classes="tbl text" if text_columns else "tbl", border=0, na_rep="–")
    if row_classes:
        head, sep, body = text.partition("<tbody>")
        pieces = body.split("<tr>")
        out = pieces[0]
        for i, piece in enumerate(pieces[1:]):
            cls = row_classes[i] if i < len(row_classes) else ""
            out += (f'<tr class="{esc(cls)}">' if cls else "<tr>") + piece
        text = head + sep + out
    return text


def note(text: str) -> str:
    """A highlighted note (``text`` is HTML)."""
    return f'<p class="note">{text}</p>'


def thumbnail(path: Path | None, *, size: int = 160) -> tuple[bytes | None, str | None]:
    """A small PNG of a subject picture, or ``(None, reason)`` where it is missing or unreadable."""
    if path is None:
        return None, "no image in candidates.csv"
    if not path.is_file():
        return None, "image file not found"
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            im.thumbnail((size, size))
            buf = io.BytesIO()
            im.save(buf, format="PNG", optimize=True)
    except (OSError, UnidentifiedImageError) as exc:
        return None, f"unreadable image ({type(exc).__name__})"
    return buf.getvalue(), None


def thumb_card(png: bytes | None, reason: str | None, caption_lines: Sequence[str]) -> str:
    """One gallery card: the thumbnail (or a box saying why there is none) and caption lines."""
    if png is not None:
        pic = f'<img src="{data_uri(png)}" alt="{esc(caption_lines[0] if caption_lines else "subject")}">'
    else:
        pic = f'<div class="missing">{esc(reason or "no image")}</div>'
    cap = "<br>".join(esc(line) for line in caption_lines)
    return f'<div class="thumb">{pic}<div>{cap}</div></div>'


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str, str]]) -> str:
    """The whole page: ``sections`` are ``(anchor, heading, body HTML)``."""
    nav = "".join(f'<li><a href="#{esc(a)}">{esc(h)}</a></li>' for a, h, _ in sections)
    body = "".join(f'<section id="{esc(a)}"><h2>{esc(h)}</h2>{b}</section>' for a, h, b in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{esc(title)}</h1><p class=\"small\">{subtitle}</p><nav><ol>{nav}</ol></nav>{body}"
            "</body></html>\n")


__all__ = ["data_uri", "esc", "figure", "fmt", "fmt_pm", "note", "page", "table", "thumb_card", "thumbnail"]
