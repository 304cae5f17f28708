"""Deployment packages as Lambda takes them: checked at upload, each ``CodeSha256`` extracted once.

:func:`inspect_package` is what Lambda checks when a package is uploaded (CreateFunction,
UpdateFunctionCode), with AWS's answers (:class:`PackageError`): a file that is not a zip archive,
or one that cannot be unzipped (conflicting entries such as ``x`` and ``x/y``, an encrypted entry,
a damaged one), gets "Could not unzip uploaded file. Please check your file, then try to upload
again."; more than :data:`~streamkit.limits.LAMBDA_UNZIPPED_MAX_BYTES` once unzipped gets "Unzipped
size must be smaller than 262144000 bytes". Both are ``InvalidParameterValueException``; sources in
:mod:`streamkit.limits`.

:func:`extract_package` unzips into ``<root>/<32 hex of its SHA-256>`` through a staging folder
renamed into place, so concurrent runtimes sharing a folder never see a half-extracted package. It
streams every entry with a running count of the bytes written, so a package whose entries lie about
their size (a zip bomb) stops at the limit; on any error the staging folder is removed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from ...errors import InvalidParameterError
from ...limits import LAMBDA_UNZIP_ERROR, LAMBDA_UNZIPPED_MAX_BYTES, LAMBDA_UNZIPPED_SIZE_ERROR

__all__ = ["PackageError", "extract_package", "inspect_package"]

_CHUNK = 1 << 20


class PackageError(InvalidParameterError):
    """A deployment package Lambda refuses (``InvalidParameterValueException``).

    Attributes
    ----------
    aws_message : str
        AWS's message: the unzip error or the unzipped size error.
    """

    def __init__(self, aws_message: str, detail: str = ""):
        super().__init__(
            "code", "<deployment package>", aws_message + (f" ({detail})" if detail else "")
        )
        self.aws_message = aws_message


def _entry_path(name: str) -> PurePosixPath | None:
    """Where an entry lands, as zipfile would put it (no absolute paths, no ``..``); None for
    an entry that names no file (``./``, ``..``)."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return PurePosixPath(*parts) if parts else None


def inspect_package(code: bytes, *, verify: bool = True) -> list[zipfile.ZipInfo]:
    """The entries of a package Lambda would accept, checked as at upload.

    Parameters
    ----------
    code : bytes
        The zip archive.
    verify : bool
        Also decompress every entry (without writing it), checking its CRC, with a running count
        against the unzipped limit.

    Raises
    ------
    PackageError
        With AWS's unzip or unzipped-size message.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(code))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise PackageError(LAMBDA_UNZIP_ERROR, str(exc)) from None
    with archive:
        entries = archive.infolist()
        files: set[PurePosixPath] = set()
        folders: set[PurePosixPath] = set()
        declared = 0
        for info in entries:
            path = _entry_path(info.filename)
            if info.flag_bits & 0x1:
                raise PackageError(LAMBDA_UNZIP_ERROR, f"{info.filename} is encrypted")
            if path is None:
                continue
            folders.update(path.parents)
            (folders if info.is_dir() else files).add(path)
            declared += info.file_size
        clash = sorted(files & folders)
        if clash:
            raise PackageError(LAMBDA_UNZIP_ERROR, f"{clash[0]} is both a file and a folder")
        if declared >= LAMBDA_UNZIPPED_MAX_BYTES:
            raise PackageError(LAMBDA_UNZIPPED_SIZE_ERROR)
        if verify:
            budget = _Budget()
            for info in entries:
                if info.is_dir():
                    continue
                try:
                    with archive.open(info) as source:
                        while chunk := source.read(_CHUNK):
                            budget.spend(len(chunk))
                except PackageError:
                    raise
                except (
                    zipfile.BadZipFile,
                    zlib.error,
                    NotImplementedError,
                    ValueError,
                    OSError,
                    EOFError,
                ) as exc:
                    raise PackageError(LAMBDA_UNZIP_ERROR, f"{info.filename}: {exc}") from None
    return entries


class _Budget:
    """The bytes written so far, against the unzipped limit."""

    def __init__(self) -> None:
        self.used = 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.used >= LAMBDA_UNZIPPED_MAX_BYTES:
            raise PackageError(LAMBDA_UNZIPPED_SIZE_ERROR)


def extract_package(code: bytes, sha: str, root: Path) -> Path:
    """The folder holding the extracted package ``code`` (whose ``CodeSha256`` is ``sha``).

    Raises
    ------
    PackageError
        (an ``InvalidParameterError``) if ``code`` is not a zip archive Lambda would take, or grows
        past the unzipped limit while it is extracted; nothing is left behind.
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
            _extract(code, staging)
            os.replace(staging, target)
        except OSError:
            if not target.is_dir():  # not extracted meanwhile by another runtime sharing root
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _extract(code: bytes, staging: Path) -> None:
    entries = inspect_package(code, verify=False)
    budget = _Budget()
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        for info in entries:
            path = _entry_path(info.filename)
            if path is None:
                continue
            destination = staging.joinpath(*path.parts)
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as source, open(destination, "xb") as sink:
                    while chunk := source.read(_CHUNK):
                        budget.spend(len(chunk))
                        sink.write(chunk)
            except PackageError:
                raise
            except (
                zipfile.BadZipFile,
                zlib.error,
                NotImplementedError,
                ValueError,
                EOFError,
            ) as exc:
                raise PackageError(LAMBDA_UNZIP_ERROR, f"{info.filename}: {exc}") from None
            except FileExistsError:  # the same name twice: the later entry wins, as unzip -o
                destination.unlink()
                with archive.open(info) as source, open(destination, "xb") as sink:
                    while chunk := source.read(_CHUNK):
                        budget.spend(len(chunk))
                        sink.write(chunk)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(destination, mode | 0o600)


def _is_b64_sha(sha: str) -> bool:
    try:
        return len(base64.b64decode(sha, validate=True)) == 32
    except ValueError:
        return False
