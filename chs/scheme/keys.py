"""Key paths in a scheme and the lines they were written on, for messages."""

from __future__ import annotations


class LocatedError(ValueError):
    """A whole-scheme check that knows which key it is about (for the line number)."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def line_for(loc: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> int | None:
    """The line of a key path, or of its nearest parent that has one."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def key_path(loc: tuple[str, ...]) -> str:
    """`signals.logins.points[2]` from ("signals", "logins", "points", "2")."""
    out = ""
    for part in loc:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out
