"""chs.text: what a value loses before it is printed, and what JSON escapes."""

from __future__ import annotations

import json

import pytest

from chs.text import json_safe, printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mC1\x1b[0m", "C1"),  # colours: the whole sequence goes, not just ESC
        ("\x1b[2J\x1b[1;1HC1", "C1"),  # clear the screen, move the cursor
        ("ev\x1b]0;title\x07il", "evil"),  # OSC: retitle the window, ended by BEL
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),  # a hyperlink, ended by ST
        ("\x9b31mred", "red"),  # the 8-bit CSI
        ("\x1b(Bok", "ok"),  # a charset designation
        ("a\rb\x08c\x07d\x00e", "abcde"),  # carriage return, backspace, bell, NUL
        ("a\x7fb\x85c", "abc"),  # DEL, and C1 (NEL)
        ("B\u202eZ\u2066x\u2069\u202a", "BZx"),  # bidi overrides and isolates
        ("a\tb", "a b"),  # a tab is a space
        ("a\nb", "a b"),  # and so is a newline in a one-line value
        ("Café ☃ 東京", "Café ☃ 東京"),  # letters and symbols stay
    ],
)
def test_printable_strips_control_characters_and_sequences(raw, shown):
    assert printable(raw) == shown


def test_printable_keeps_the_lines_of_a_block():
    block = "Error: 2 rows\r\n  row 1: '\x1b[2Jx'\n\trow 2"
    assert printable(block, multiline=True) == "Error: 2 rows\n  row 1: 'x'\n row 2"


def test_an_unterminated_osc_ends_with_its_line():
    # a value cannot swallow the lines of the message after it
    assert printable("row 1: '\x1b]0;x'\nrow 2", multiline=True) == "row 1: '\nrow 2"


def test_json_safe_escapes_what_json_dumps_leaves_and_reads_back_the_same():
    data = {"id": "B\u202eZ\x85\x7f", "esc": "\x1b[31m"}
    text = json_safe(json.dumps(data, ensure_ascii=False))
    assert text == '{"id": "B\\u202eZ\\u0085\\u007f", "esc": "\\u001b[31m"}'
    assert json.loads(text) == data
