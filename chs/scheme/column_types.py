"""How to read a column, as a scheme declares it (`columns:`): its type, and for text
written by a CRM or a spreadsheet the marks around a number (`85%`, `€1,234.50`), the
decimal comma, a date's format and extra missing markers. A declaration is data: the
date format is checked against an allow-list of directives before Polars sees it."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chs.scheme.limits import MAX_FORMAT_CHARS, MAX_MARKER_CHARS, MAX_NA_MARKERS

ColumnKind = Literal["number", "integer", "date", "text", "boolean"]
KINDS: tuple[ColumnKind, ...] = ("number", "integer", "date", "text", "boolean")

# chrono's directives a date needs: day, month (number or name), year; and the padding
# flags. Nothing else: no time, no time zone (a date is a day), no `%%` tricks.
_DIRECTIVES = {"d", "e", "m", "b", "B", "h", "y", "Y", "j", "a", "A"}
_DIRECTIVE = re.compile(r"%([-_0]?)(.)")
_LITERAL = re.compile(r"[^%]*")

Marker = Annotated[str, StringConstraints(min_length=1, max_length=MAX_MARKER_CHARS)]


def check_date_format(text: str) -> str:
    """A date format of chrono directives naming a day (or day of year), a month and a
    year, with literal separators between them: `%d/%m/%Y`, `%Y-%m-%d`, `%d %b %Y`."""
    found: list[str] = []
    rest = _DIRECTIVE.sub(lambda m: found.append(m.group(2)) or "", text)
    bad = [d for d in found if d not in _DIRECTIVES]
    if bad:
        raise ValueError(
            f"a date format takes %d %e %m %b %B %y %Y %j %a %A (got %{bad[0]} in {text!r})"
        )
    if "%" in rest or any(c in rest for c in "\x00\r\n"):
        raise ValueError(f"a lone % in the date format {text!r}; write the directive, as %d")
    letters = set(found)
    has_day = bool(letters & {"d", "e"}) or "j" in letters
    has_month = bool(letters & {"m", "b", "B", "h"}) or "j" in letters
    if not (has_day and has_month and letters & {"y", "Y"}):
        raise ValueError(f"a date format names a day, a month and a year (got {text!r})")
    return text


class ColumnType(BaseModel):
    """One column's declared reading."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: ColumnKind = Field(description="number, integer, date, text or boolean")
    percent: bool = Field(False, description="number: '85%' and '85 %' read as 85")
    currency: bool = Field(
        False, description="number: a currency sign or code and grouping ('€1,234.50') dropped"
    )
    decimal_comma: bool | None = Field(
        None, description="number: ',' is the decimal mark (default: the run's --decimal-comma)"
    )
    format: Annotated[str, StringConstraints(max_length=MAX_FORMAT_CHARS)] | None = Field(
        None, description="date: the format, in chrono directives ('%d/%m/%Y'); ISO needs none"
    )
    na: list[Marker] = Field(
        default_factory=list,
        max_length=MAX_NA_MARKERS,
        description="more values that mean missing in this column ('-', 'n/a')",
    )

    @model_validator(mode="after")
    def _fits_type(self) -> ColumnType:
        numeric = self.type in ("number", "integer")
        for key in ("percent", "currency"):
            if getattr(self, key) and not numeric:
                raise ValueError(f"`{key}` goes with type number or integer, not {self.type}")
        if self.decimal_comma is not None and not numeric:
            raise ValueError(f"`decimal_comma` goes with type number or integer, not {self.type}")
        if self.format is not None:
            if self.type != "date":
                raise ValueError(f"`format` goes with type date, not {self.type}")
            check_date_format(self.format)
        return self
