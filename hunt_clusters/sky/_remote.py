"""FITS inputs given as fsspec URLs (``https://``, ``s3://``, ``gs://``, ``file://``): whole files in memory.

A string with ``://`` in it (and not a Windows drive such as ``C://``) is a URL. Its bytes are read
through :mod:`fsspec` (``url_to_fs`` then ``cat_file``: one request, no compression layer, so that
a ``.fits.gz`` arrives as the gzip bytes a local file holds) and parsed by the readers of local
files. fsspec is imported on the first URL only: local work never imports it.

Every failure is an :class:`~hunt_clusters._errors.InputError` of one line that names the URL without its
credentials (``user:password@``) or query string (signatures of presigned URLs), and the reason:
``https://host/x.fits: cannot read (404 Not Found)``; a protocol whose package is missing names the
package (``pip install s3fs``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from .._errors import InputError

log = logging.getLogger(__name__)

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")

#: Keys of ``fs.info()`` that change when the object does (HTTP, S3, GCS, local files...).
_VERSION_KEYS = ("ETag", "etag", "Content-MD5", "Digest", "md5Hash", "generation", "VersionId",
                 "Last-Modified", "LastModified", "last_modified", "updated", "mtime")

#: The package to install for a protocol whose fsspec implementation lives in a module of fsspec itself.
_PACKAGE_OF = {"http": "aiohttp", "https": "aiohttp"}


def is_url(path: Any) -> bool:
    """Whether ``path`` is a URL for fsspec (``scheme://...``, chained ``a::b://`` too), not a local path.

    Examples
    --------
    >>> is_url("https://host/x.fits"), is_url("s3://bucket/x.fits"), is_url("xray/x.fits"), is_url("C://x.fits")
    (True, True, False, False)
    """
    return isinstance(path, str) and "://" in path and _WINDOWS_DRIVE.match(path) is None


def redact(text: str) -> str:
    """``text`` without the credentials of its URLs; a URL also loses its query string (``?...``).

    Examples
    --------
    >>> redact("https://user:secret@host/x.fits?X-Amz-Signature=abc")
    'https://host/x.fits?...'
    """
    text = _USERINFO.sub("", text)
    if is_url(text) and "?" in text:
        text = text.split("?", 1)[0] + "?..."
    return text


def _reason(exc: BaseException, url: str) -> str:
    """What went wrong, in a few words without credentials."""
    if isinstance(exc, FileNotFoundError):
        scheme = url.split("://", 1)[0].rsplit("::", 1)[-1].lower()
        return "404 Not Found" if scheme in ("http", "https") else "not found"
    status, message = getattr(exc, "status", None), getattr(exc, "message", None)
    if isinstance(status, int) and isinstance(message, str):  # aiohttp.ClientResponseError
        return f"{status} {message}".strip()
    text = str(exc).replace(url, redact(url)) or type(exc).__name__
    return redact(" ".join(text.split()))


def filesystem(url: str) -> tuple[Any, str]:
    """``fsspec.core.url_to_fs(url)``: the file system and the path in it.

    Raises
    ------
    InputError
        If fsspec, or the package of the URL's protocol (s3fs, gcsfs, aiohttp), is not installed,
        or the protocol is unknown.
    """
    try:
        import fsspec.core
    except ImportError:
        raise InputError(
            f"{redact(url)}: cannot read (URLs need fsspec, which is not installed: "
            "pip install 'hunt-clusters[dask]')"
        ) from None
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as exc:
        scheme = url.split("://", 1)[0].rsplit("::", 1)[-1]
        package = _PACKAGE_OF.get(scheme.lower()) or getattr(exc.__cause__, "name", None) or getattr(exc, "name", None)
        if not package:
            raise InputError(f"{redact(url)}: cannot read ({_reason(exc, url)})") from None
        raise InputError(
            f"{redact(url)}: cannot read ({scheme}:// URLs need the {package} package, which is not "
            f"installed: pip install {package})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - unknown protocol (ValueError), bad options: one line
        raise InputError(f"{redact(url)}: cannot read ({_reason(exc, url)})") from None


def read_url(url: str) -> bytes:
    """The bytes of the file at ``url``, as stored (a ``.fits.gz`` stays compressed).

    Raises
    ------
    InputError
        One line naming the URL (without credentials) and the reason.
    """
    fs, path = filesystem(url)
    try:
        data = fs.cat_file(path)
    except Exception as exc:  # noqa: BLE001 - every protocol has its own errors (aiohttp, botocore...)
        raise InputError(f"{redact(url)}: cannot read ({_reason(exc, url)})") from None
    log.debug("%s: %d bytes", redact(url), len(data))
    return bytes(data)


def url_stamp(url: str) -> tuple[Any, ...] | None:
    """What identifies the current version of the object at ``url``, for a cache key; None when unknown.

    The size with the ETag, checksum or modification time that ``fs.info`` gives (HTTP ``ETag`` /
    ``Last-Modified``, S3 ``ETag``, GCS ``generation``, local ``mtime``). None where the file
    system gives none of them or the call fails (the read then words the error).
    """
    try:
        fs, path = filesystem(url)
        info = fs.info(path)
    except Exception as exc:  # noqa: BLE001 - no cache for this one; the read says what is wrong
        log.debug("%s: no version for the cache (%s)", redact(url), _reason(exc, url))
        return None
    version = tuple((key, str(info[key])) for key in _VERSION_KEYS if info.get(key) not in (None, ""))
    if not version:
        return None
    return (url, info.get("size"), *version)


def sibling(url: str, name: str) -> str:
    """The URL of the file ``name`` in the folder of ``url``."""
    return url[: url.rfind("/") + 1] + name


def url_exists(url: str) -> bool:
    """Whether ``url`` names an existing object (False where the file system cannot tell)."""
    try:
        fs, path = filesystem(url)
        return bool(fs.exists(path))
    except Exception as exc:  # noqa: BLE001 - a sibling map that cannot be checked is not there
        log.debug("%s: cannot check (%s)", redact(url), _reason(exc, url))
        return False


def list_names(url: str, prefix: str) -> list[str]:
    """Names of the files beside ``url`` that start with ``prefix`` (``fs.glob``); [] where listing fails."""
    try:
        fs, path = filesystem(url)
        folder = path[: path.rfind("/") + 1]
        return sorted({p.rstrip("/").rsplit("/", 1)[-1] for p in fs.glob(folder + prefix + "*")})
    except Exception as exc:  # noqa: BLE001 - HTTP servers without an index page, no list permission
        log.debug("%s: cannot list the folder (%s)", redact(url), _reason(exc, url))
        return []
