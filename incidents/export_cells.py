"""What each cell of a Hotline CSV export holds, decided in one place for every column of every export.

The CSV writer passes every row through ``row_cells``, so a column added to any export later gets the same
treatment without asking for it:

- **text** (every ``str`` cell, whatever the column): a cell a spreadsheet would run as a formula (it starts with
  ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed, or the full-width ``＝＋－＠``) gets a
  leading apostrophe, so Excel, LibreOffice and Google Sheets show it as text. The *raw* CSV, which analysts
  choose knowingly for pandas and BI tools, leaves text exactly as stored;
- **no value** (``None``): an empty cell, never 0 (METRICS.md §4: an empty set has no reply rate);
- **booleans**: ``true`` / ``false``;
- **date-times**: ISO 8601.

Numbers are rounded by their meaning, with the two helpers the row builders call: ``ratio`` (reply rate, share
answered within 1 h, net sentiment, sentiment scores: 4 decimals, 0.0807) and ``seconds`` (response times,
silences: whole seconds when whole, at most 3 decimals, 101880 rather than 101880.00000000001).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
RATIO_DECIMALS = 4
SECONDS_DECIMALS = 3


def neutralised(text: str) -> str:
    """The text as a spreadsheet will show it and never run it (a leading apostrophe when it could be a formula)."""
    if text and text[0] in FORMULA_START:
        return "'" + text
    return text


def ratio(value: float | None) -> float | None:
    """A share or score with 4 decimals (0.08070175438596491 → 0.0807); None stays "no value"."""
    if value is None:
        return None
    return round(float(value), RATIO_DECIMALS) + 0.0  # + 0.0: -0.0 shows as 0.0


def seconds(value: float | None) -> int | float | None:
    """A duration in seconds: whole when whole (101880.00000000001 → 101880), else at most 3 decimals."""
    if value is None:
        return None
    rounded = round(float(value), SECONDS_DECIMALS) + 0.0
    return int(rounded) if rounded.is_integer() else rounded


def figure(name: str, value: float | None) -> int | float | None:
    """A METRICS.md §4/§5 figure rounded by its name: ``*_s`` are seconds, the rest ratios (counts are ints)."""
    if value is None or isinstance(value, int):
        return value
    return seconds(value) if name.endswith("_s") else ratio(value)


def _not_text(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if value.__class__ is datetime:
        return value.isoformat()
    return value


def row_cells(row: Iterable, *, raw: bool = False) -> list:
    """One row as the CSV writer writes it (see the module docstring). Hot loop: a million rows per export, so
    one comprehension, text (most cells) tested first."""
    if raw:
        return [value if value.__class__ is str else _not_text(value) for value in row]
    return [(("'" + value) if value and value[0] in FORMULA_START else value) if value.__class__ is str
            else _not_text(value) for value in row]
