"""Text safe to print on a terminal: values from files and schemes without the control
characters that would drive it.

An id, a label, a scheme name or a rejected value comes from a file someone else wrote;
printed raw, `ESC]0;…BEL` retitles the window, `ESC[2J` clears it, a carriage return or
a backspace overwrites what chs printed, and a bidi override reorders the line. The
command line passes every value it prints through `printable` (rich output in
chs/cli/render.py, errors and warnings in chs/cli/errors.py and chs/cli/common.py);
output files keep the data as it is, and JSON escapes it (`json_safe`).
"""

from __future__ import annotations

import re

# Whole escape sequences first, so that `ESC[31m` leaves nothing behind (not `[31m`):
# CSI (ESC [ or 8-bit CSI, parameters, one final byte); OSC, DCS, SOS, PM and APC
# strings, up to BEL or the string terminator (or the end of the line: a value cannot
# swallow the lines of a message after it); any other ESC with its intermediate and
# final characters.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[\x20-\x3f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\n]*?(?:\x07|\x1b\\|\x9c|(?=\n)|\Z)"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
# What is left: C0 but tab and newline, DEL, C1, and the bidi embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\t\n]")
_TABS = re.compile(r"\t")


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` without control characters and escape sequences; a tab is a space, and so
    is a newline unless the text is a `multiline` block (a message with one line per
    rejected row, say), whose lines a value must not be able to forge otherwise."""
    text = _CONTROLS.sub("", _SEQUENCES.sub("", text))
    return (_TABS if multiline else _LINE_BREAKS).sub(" ", text)


# Characters that `json.dumps(ensure_ascii=False)` leaves as they are but a terminal
# acts on: DEL, C1 and the bidi controls (it escapes C0 itself, ESC as \u001b).
_JSON_RAW = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def json_safe(text: str) -> str:
    """JSON text with DEL, C1 and bidi controls written as `\\uXXXX` escapes: the same
    JSON (they occur only inside strings), and nothing a terminal would act on."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
