"""Deployment packages: a folder zipped the same way every time, and its ``CodeSha256``.

Pure model: no AWS calls. :func:`streamkit.functions.deploy_function` uploads what
:func:`build_zip` makes; the embedded backend's runtime checks what it runs with
:func:`code_sha256`, as Lambda reports it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

from .errors import InvalidParameterError

__all__ = ["build_zip", "code_sha256", "source_dir_of"]


#: What :func:`build_zip` leaves out.
_SKIPPED_DIRS = frozenset({"__pycache__"})
_SKIPPED_FILES = frozenset({".DS_Store"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
_ZIP_FILE_MODE = 0o100644  # a regular file, rw-r--r--


def _package_files(source: Path) -> list[Path]:
    files = []
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if any(part in _SKIPPED_DIRS for part in relative.parts):
            continue
        if not path.is_file() or path.name in _SKIPPED_FILES or path.suffix in _SKIPPED_SUFFIXES:
            continue
        files.append(path)
    return sorted(files, key=lambda p: p.relative_to(source).as_posix())


def source_dir_of(source_dir: str | Path) -> Path:
    """``source_dir`` as a folder that exists, or InvalidParameterError."""
    try:
        source = Path(source_dir)
    except TypeError:
        raise InvalidParameterError("source_dir", source_dir, "a folder holding the code") from None
    if not source.is_dir():
        raise InvalidParameterError("source_dir", str(source_dir), "an existing folder")
    return source


def build_zip(source_dir: str | Path) -> bytes:
    """A deployment package of a folder, byte-for-byte the same every time for the same files.

    Entries are sorted by path, dated 1980-01-01 00:00, with permissions rw-r--r--;
    ``__pycache__`` folders, ``*.pyc`` / ``*.pyo`` and ``.DS_Store`` are left out. So the package's
    SHA-256 (what Lambda reports as ``CodeSha256``) changes only when the code does.

    Parameters
    ----------
    source_dir : str or pathlib.Path
        The folder; its files go to the root of the zip (``app.py`` → ``app.py``).

    Returns
    -------
    bytes
        The zip file.
    """
    source = source_dir_of(source_dir)
    files = _package_files(source)
    if not files:
        raise InvalidParameterError(
            "source_dir", str(source_dir), "a folder with at least one file"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=_ZIP_DATE)
            info.create_system = 3  # Unix, so the permissions below are read on every platform
            info.external_attr = _ZIP_FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def code_sha256(package: bytes) -> str:
    """A package's ``CodeSha256`` as Lambda reports it: base64 of the SHA-256 of the zip."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode("ascii")
