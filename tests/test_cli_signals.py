"""chs/cli/signals.py: where the handler raises KeyboardInterrupt and where it must not.

The handler is called directly here, as Python calls it, with the frame it would
interrupt; no signal is sent (tests/adversarial/test_signals.py sends real ones to a real
run). Each test starts from a fresh state.
"""

from __future__ import annotations

import signal
import sys

import pytest

from chs.cli import signals
from chs.cli.signals import _on_signal, _request, _State


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "sigint_ignored": False,
        "wanted": False,
        "terminated": False,
        "raised": False,
        "deferred": False,
        "forwarded": False,
        "insisting": False,
        "sigterms": 0,
    }.items():
        monkeypatch.setattr(_State, name, value)
    monkeypatch.setattr(_State, "resent", {signal.SIGINT: 0, signal.SIGTERM: 0})


def test_sigterm_in_plain_code_raises_once() -> None:
    with pytest.raises(KeyboardInterrupt):
        _on_signal(signal.SIGTERM, sys._getframe())
    assert signals.terminated() and _State.raised
    _on_signal(signal.SIGTERM, sys._getframe())  # one interrupt only: the clean-up runs


class _Recorded:
    """Named like chs.files' file object, whose methods Polars calls from native code."""

    def tell(self) -> int:
        _on_signal(signal.SIGTERM, sys._getframe())
        return 0


def test_sigterm_where_polars_called_the_file_object_is_deferred() -> None:
    # raised in `tell`, called by Polars as it made a sink, the interrupt was lost: the
    # run went on to the end and exited 0
    assert _Recorded().tell() == 0
    assert (_State.deferred, _State.raised, _State.terminated) == (True, False, True)


def test_sigterm_in_an_except_block_is_deferred() -> None:
    try:
        raise ValueError("handled by the code that runs")
    except ValueError:
        _on_signal(signal.SIGTERM, sys._getframe())
    assert (_State.deferred, _State.raised) == (True, False)


def test_sigterm_while_a_keyboard_interrupt_is_handled_is_not_raised_again() -> None:
    # Polars raised its own on the SIGINT it was sent; a second one in the clean-up
    # would stop the clean-up itself
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        _on_signal(signal.SIGINT, sys._getframe())
    assert (_State.raised, _State.deferred) == (True, False)


def test_ctrl_c_raises_and_is_not_a_sigterm() -> None:
    with pytest.raises(KeyboardInterrupt):
        _on_signal(signal.SIGINT, sys._getframe())
    assert not signals.terminated()


def test_a_sigint_ignored_at_the_start_stays_ignored_until_a_sigterm() -> None:
    _State.sigint_ignored = True
    _on_signal(signal.SIGINT, sys._getframe())  # a real one: ignored
    assert (_State.wanted, _State.raised) == (False, False)
    assert _request(signal.SIGINT) is False  # and the watcher does not insist
    _State.wanted = True  # a SIGTERM asked for an interrupt: SIGINT is then ours
    with pytest.raises(KeyboardInterrupt):
        _on_signal(signal.SIGINT, sys._getframe())


def test_the_watcher_skips_its_own_signals_and_ends_on_a_second_sigterm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exits: list[int] = []

    def exit_now(code: int) -> None:
        exits.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(signals.os, "_exit", exit_now)
    _State.resent[signal.SIGINT] = 1
    assert _request(signal.SIGINT) is False  # the SIGINT sent for Polars
    assert _request(signal.SIGTERM) is True  # the first SIGTERM: a thread insists
    assert _request(signal.SIGINT) is False  # a Ctrl-C now: that thread insists already
    with pytest.raises(SystemExit):
        _request(signal.SIGTERM)
    assert exits == [143]
