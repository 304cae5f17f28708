"""Deployment packages: the same bytes for the same files, whatever their dates and permissions."""

from __future__ import annotations

import io
import zipfile

import pytest
from helpers import function_source as _source

from streamkit.errors import InvalidParameterError
from streamkit.packaging import build_zip


def test_build_zip_is_deterministic_and_clean(tmp_path):
    folder = _source(tmp_path)
    first = build_zip(folder)
    (folder / "app.py").touch()  # a new mtime must not change the package
    (folder / "pkg" / "util.py").chmod(0o755)  # nor the permissions
    assert build_zip(str(folder)) == first
    archive = zipfile.ZipFile(io.BytesIO(first))
    assert archive.namelist() == ["app.py", "pkg/util.py"]
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
    assert archive.read("app.py") == (folder / "app.py").read_bytes()


@pytest.mark.parametrize("bad", [None, 42, "/no/such/folder"])
def test_build_zip_needs_a_folder(bad):
    with pytest.raises(InvalidParameterError):
        build_zip(bad)


def test_build_zip_refuses_an_empty_folder(tmp_path):
    with pytest.raises(InvalidParameterError) as err:
        build_zip(tmp_path)
    assert "at least one file" in str(err.value)
