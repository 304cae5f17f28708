"""Deployment packages as the local runtime runs them: each ``CodeSha256`` extracted once.

A package is extracted into ``<root>/<32 hex of its SHA-256>`` through a staging folder renamed
into place, so concurrent runtimes sharing a folder never see a half-extracted package.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from ...errors import InvalidParameterError

__all__ = ["extract_package"]


def extract_package(code: bytes, sha: str, root: Path) -> Path:
    """The folder holding the extracted package ``code`` (whose ``CodeSha256`` is ``sha``).

    Raises
    ------
    InvalidParameterError
        If ``code`` is not a zip archive.
    """
    name = (
        base64.b64decode(sha).hex()[:32]
        if _is_b64_sha(sha)
        else hashlib.sha256(code).hexdigest()[:32]
    )
    target = root / name
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
        try:
            with zipfile.ZipFile(io.BytesIO(code)) as archive:
                archive.extractall(staging)
        except (zipfile.BadZipFile, ValueError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise InvalidParameterError(
                "code", f"<{len(code)} bytes>", f"a zip archive ({exc})"
            ) from None
        try:
            os.replace(staging, target)
        except OSError:  # extracted meanwhile by another runtime sharing work_dir
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _is_b64_sha(sha: str) -> bool:
    try:
        return len(base64.b64decode(sha, validate=True)) == 32
    except ValueError:
        return False
