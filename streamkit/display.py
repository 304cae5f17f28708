"""What the notebooks show: tables as HTML (styled where it helps) and source code highlighted.

A DataFrame printed with ``to_string()`` wraps and garbles in a browser window of ordinary width;
shown as HTML it scrolls and keeps its columns. :func:`table` wraps a DataFrame so that Jupyter
shows a styled HTML table while its text form (what ``repr`` gives, and what nbval compares with
the text of the committed output) stays the plain ``to_string()`` table. :func:`compare_images`
puts a record's OldImage and NewImage side by side with the changed attributes highlighted.
:func:`code` shows a file's source (or part of it) with syntax highlighting.

Everything here is deterministic: the same data gives the same HTML (no random ids).
pandas and Pygments are imported when used.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InvalidParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Code", "Table", "code", "compare_images", "show", "table"]

_CHANGED = "background-color: #fff3c4; font-weight: bold"
_TABLE_STYLES = [
    {"selector": "th", "props": "text-align: left; white-space: nowrap"},
    {"selector": "td", "props": "text-align: left; vertical-align: top; font-family: monospace"},
    {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: bold"},
]


class Table:
    """A DataFrame shown as a styled HTML table, whose text form is its ``to_string()``.

    Attributes
    ----------
    frame : pandas.DataFrame
        The data.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        caption: str | None = None,
        index: bool = True,
        highlight_rows: Any = None,
        formats: dict[str, str] | None = None,
        uuid: str = "streamkit",
    ):
        self.frame = frame
        self.caption = caption
        self.index = index
        self.highlight_rows = highlight_rows
        self.formats = formats or {}
        self.uuid = uuid

    def to_string(self) -> str:
        """The table as text: pandas' ``to_string``, with the same formats."""
        formatters = {column: fmt.format for column, fmt in self.formats.items()}
        text = self.frame.to_string(index=self.index, formatters=formatters or None)
        return f"{self.caption}\n{text}" if self.caption else text

    def __repr__(self) -> str:
        return self.to_string()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.to_string())

    def _repr_html_(self) -> str:
        styler = self.frame.style.set_uuid(self.uuid).set_table_styles(_TABLE_STYLES)  # type: ignore[arg-type]
        if self.formats:
            styler = styler.format({c: f for c, f in self.formats.items()})
        if not self.index:
            styler = styler.hide(axis="index")
        if self.caption:
            styler = styler.set_caption(html.escape(self.caption))
        if self.highlight_rows is not None:
            marks = list(self.highlight_rows)

            def mark(row: Any) -> list[str]:
                chosen = marks[self.frame.index.get_loc(row.name)]
                return [_CHANGED if chosen else ""] * len(row)

            styler = styler.apply(mark, axis=1)
        return str(styler.to_html())


def table(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    index: bool = False,
    highlight_rows: Any = None,
    formats: dict[str, str] | None = None,
) -> Table:
    """Show a DataFrame as a styled HTML table (its text form stays ``to_string()``).

    Parameters
    ----------
    frame : pandas.DataFrame
    caption : str, optional
        A title above the table.
    index : bool, default False
        Show the index.
    highlight_rows : sequence of bool, optional
        Rows to highlight, one flag per row.
    formats : dict of str, optional
        Format strings per column, e.g. ``{"cost (USD)": "{:,.4f}"}`` (both forms use them).

    Returns
    -------
    Table
        Jupyter shows it as HTML; ``str()`` / ``repr()`` give the text table.
    """
    if not hasattr(frame, "style"):
        raise InvalidParameterError("frame", type(frame).__name__, "a pandas DataFrame")
    return Table(
        frame, caption=caption, index=index, highlight_rows=highlight_rows, formats=formats
    )


def compare_images(old: dict[str, Any] | None, new: dict[str, Any] | None) -> Table:
    """A record's OldImage and NewImage side by side, the attributes that changed highlighted.

    Parameters
    ----------
    old, new : dict or None
        The images as Python values (``record.old_image``, ``record.new_image``); None when the
        record has no such image (an INSERT has no OldImage, a REMOVE no NewImage).

    Returns
    -------
    Table
        One row per attribute (in the order of the new image, then attributes only in the old
        one): ``attribute``, ``OldImage``, ``NewImage``, ``changed``.
    """
    import pandas as pd

    old, new = old or {}, new or {}
    names = list(dict.fromkeys([*new, *old]))
    missing = "—"
    rows = [
        {
            "attribute": name,
            "OldImage": repr(old[name]) if name in old else missing,
            "NewImage": repr(new[name]) if name in new else missing,
            "changed": (name in old) != (name in new) or old.get(name) != new.get(name),
        }
        for name in names
    ]
    frame = pd.DataFrame(rows, columns=["attribute", "OldImage", "NewImage", "changed"])
    return Table(frame, index=False, highlight_rows=frame["changed"].tolist(), uuid="images")


class Code:
    """Source code shown with syntax highlighting; its text form is the code itself."""

    def __init__(self, text: str, language: str = "python"):
        self.text = text
        self.language = language

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text)

    def _repr_html_(self) -> str:
        try:
            from pygments import highlight  # type: ignore[import-untyped,unused-ignore]
            from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped,unused-ignore]
            from pygments.lexers import get_lexer_by_name  # type: ignore[import-untyped,unused-ignore]
        except ImportError:  # pragma: no cover - Pygments comes with IPython
            return f"<pre>{html.escape(self.text)}</pre>"
        formatter = HtmlFormatter(noclasses=True, nobackground=True)
        return highlight(self.text, get_lexer_by_name(self.language), formatter)


def code(
    path: str | Path,
    *,
    start: str | None = None,
    end: str | None = None,
    language: str | None = None,
) -> Code:
    """A source file, or the part of it from the line holding ``start`` up to ``end``, highlighted.

    Parameters
    ----------
    path : str or Path
        The file.
    start : str, optional
        Begin at the first line containing this text (default: the top of the file).
    end : str, optional
        Stop before the first line after ``start`` containing this text (default: the end).
    language : str, optional
        A Pygments language name; default from the suffix (``.py``: python, ``.js`` /
        ``.cjs`` / ``.mjs``: javascript, ``.json``, ``.yaml``).

    Returns
    -------
    Code
        Jupyter shows it highlighted; ``repr()`` gives the code.
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    first = 0
    if start is not None:
        found = [n for n, line in enumerate(lines) if start in line]
        if not found:
            raise InvalidParameterError("start", start, f"text found in {path.name}")
        first = found[0]
    last = len(lines)
    if end is not None:
        found = [n for n, line in enumerate(lines) if n > first and end in line]
        if not found:
            raise InvalidParameterError("end", end, f"text found after start in {path.name}")
        last = found[0]
    if language is None:
        suffixes = {
            ".py": "python",
            ".js": "javascript",
            ".cjs": "javascript",
            ".mjs": "javascript",
            ".json": "json",
            ".yaml": "yaml",
            ".yml": "yaml",
        }
        language = suffixes.get(path.suffix, "text")
    return Code("\n".join(lines[first:last]).rstrip() + "\n", language)


def show(*objects: Any) -> None:
    """Show each object as Jupyter shows a cell's value (rich HTML), or print it outside Jupyter.

    For more than one table or figure in one cell: a cell shows only its last value by itself.
    """
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - plain Python
        get_ipython = None  # type: ignore[assignment,unused-ignore]
    if get_ipython is None or get_ipython() is None:
        for item in objects:
            print(item)
        return
    display(*objects)
