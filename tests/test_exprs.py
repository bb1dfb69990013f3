"""Shared polars expressions: the id as compared, the band order."""

from __future__ import annotations

import unicodedata

import polars as pl

from chs.exprs import band_order, id_key, id_text, trimmed_id, with_id_key, with_trimmed_id

NFC, NFD = unicodedata.normalize("NFC", "Café"), unicodedata.normalize("NFD", "Café")


def test_ids_are_compared_trimmed_and_in_nfc():
    assert NFC != NFD  # `é` against `e` and a combining accent
    frame = pl.DataFrame({"id": [f" {NFD} ", NFC, "  ", 42]}, strict=False)
    keys = frame.select(trimmed_id("id").alias("t"), id_key("id").alias("k"))
    assert keys["t"].to_list() == [NFC, NFC, "", "42"]
    assert keys["k"].to_list() == [NFC, NFC, None, "42"]
    assert [id_text(v) for v in (f" {NFD}", NFC, 42)] == [NFC, NFC, "42"]


def test_the_staged_key_is_the_id_key():
    """The scoring plan makes the key in stages (faster); it is the same key."""
    frame = pl.DataFrame({"id": [f" {NFD} ", NFC, "  ", None, " C1 ", "c1"]})
    staged = with_id_key(frame.lazy(), "id", "k").collect()
    assert staged["k"].to_list() == [NFC, NFC, None, None, "C1", "c1"]
    assert staged["k"].to_list() == frame.select(id_key("id"))["id"].to_list()
    assert staged["id"].to_list() == frame["id"].to_list()  # the input column as it was
    trimmed = with_trimmed_id(frame.lazy(), "id", "t").collect()["t"]
    assert trimmed.to_list() == [NFC, NFC, "", None, "C1", "c1"]
    assert trimmed.to_list() == frame.select(trimmed_id("id"))["id"].to_list()


def test_normalising_before_stripping_gives_the_staged_id():
    """`trimmed_id` normalises, then strips; the stages strip, then normalise. Every
    character that NFC changes, every combining mark and every white space, alone, at
    either end, beside a space or a mark, come out the same both ways."""
    chars = [
        chr(c)
        for c in range(0x110000)
        if not 0xD800 <= c < 0xE000
        and (
            unicodedata.normalize("NFC", chr(c)) != chr(c)
            or unicodedata.category(chr(c)) in ("Mn", "Mc", "Zs", "Zl", "Zp", "Cc")
        )
    ]
    assert len(chars) > 2_000
    forms = ("{}", " {}", "{} ", "{}\u0301", "\u0301{}", "e{}", " {}\u0327\u0301 ")
    frame = pl.DataFrame({"id": [f.format(c) for c in chars for f in forms]})
    staged = with_trimmed_id(frame.lazy(), "id", "t").collect()["t"]
    assert frame.select(trimmed_id("id"))["id"].equals(staged)
    assert unicodedata.normalize("NFC", "\u2000x\u2001") == "\u2002x\u2003"  # spaces stay spaces


def test_band_order_by_best_score():
    frames = [
        pl.DataFrame({"band": ["red", "green", None], "score": [45.0, 90.0, 99.0]}),
        pl.DataFrame({"band": ["orange", "red"], "score": [65.0, 49.0]}),
    ]
    # green 90, orange 65, red max(45, 49) = 49; a null band is ignored
    assert band_order(frames) == ["green", "orange", "red"]
    assert band_order([]) == []
