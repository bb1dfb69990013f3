"""Loading a scheme from YAML: line numbers for every key, one message per problem.

The file is read only if it is a regular file within the size limit, and its YAML is
watched event by event while it is composed (see `_Guard`), so that a hostile file
fails at the event that breaks a limit: before the rest is read, built or expanded.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from chs.errors import DataError, SchemeError
from chs.hints import close_matches
from chs.scheme.column_types import ColumnType
from chs.scheme.keys import LocatedError, key_path, line_for
from chs.scheme.kinds import read_kinds
from chs.scheme.limits import MAX_SCHEME_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES
from chs.scheme.lint import scheme_warnings, weight_notes
from chs.scheme.model import (
    Alert,
    Band,
    ExtraScore,
    Group,
    Scheme,
    Segment,
    Signal,
    Tier,
    check_column_names,
    check_output_columns,
    number_text,
)

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    """A problem found while the YAML is read, at a line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


@dataclass
class _Frame:
    """An open list or mapping: where its current child is."""

    mapping: bool
    at: str | int = 0  # the key of a mapping's current value, the index of a list's item
    in_value: bool = False  # a mapping's child is its value (else the key being read)

    def part(self) -> str | None:
        """This level's part of the key path of the node being read."""
        return str(self.at) if not self.mapping or self.in_value else None


class _Guard:
    """Watches the YAML events one by one, before the composer acts on them.

    Anchors and aliases are refused outright rather than capped. A scheme is small
    hand-written data that never needs them, and each of its keys must have one line
    for messages to name; an alias would give a shared value many key paths and one
    line, and expanding a chain of them (a "billion laughs" file) is what exhausts the
    memory. Merge keys (`<<`) are refused with them: they exist to merge aliases.
    Depth and the number of nodes are counted here too, so that a 20,000-deep list or a
    megabyte of tiny values fails at the event that breaks the limit; and a key is a
    scalar (a list or mapping as a key cannot be a dict key in Python).
    """

    def __init__(self) -> None:
        self.frames: list[_Frame] = []
        self.nodes = 0

    def path(self) -> str:
        """The key path of the node being read, as messages write it."""
        return key_path(tuple(p for f in self.frames if (p := f.part()) is not None))

    def refuse(self, event: yaml.Event, message: str) -> None:
        where = self.path()
        raise _Refused(event.start_mark.line + 1, f"{where + ': ' if where else ''}{message}")

    def see(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
            self.refuse(
                event,
                f"YAML anchors and aliases are not allowed in a scheme (found {sign}"
                f"{event.anchor}): write each value out where it is used",
            )
        if isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent):
            self.nodes += 1
            if self.nodes > MAX_YAML_NODES:
                self.refuse(
                    event,
                    f"the scheme has more than {MAX_YAML_NODES:,} YAML nodes "
                    "(keys, values, lists and mappings); that is the limit",
                )
        if isinstance(event, yaml.ScalarEvent):
            if self._is_key() and (
                event.tag == _MERGE_TAG or (event.value == "<<" and event.implicit[0])
            ):
                self.refuse(
                    event, "YAML merge keys (<<) are not allowed in a scheme: write the keys out"
                )
            self._done(event.value)
        elif isinstance(event, yaml.CollectionStartEvent):
            if self._is_key():
                self.refuse(event, "a key is a name, not a list or mapping")
            if len(self.frames) >= MAX_YAML_DEPTH:
                self.refuse(
                    event,
                    f"lists and mappings nest more than {MAX_YAML_DEPTH} levels deep; "
                    "that is the limit",
                )
            self.frames.append(_Frame(isinstance(event, yaml.MappingStartEvent)))
        elif isinstance(event, yaml.CollectionEndEvent):
            self.frames.pop()
            self._done("?")

    def _is_key(self) -> bool:
        return bool(self.frames) and self.frames[-1].mapping and not self.frames[-1].in_value

    def _done(self, text: str) -> None:
        """A node is complete: move its parent on to the next key, value or item."""
        if not self.frames:
            return
        frame = self.frames[-1]
        if not frame.mapping:
            frame.at = int(frame.at) + 1
        elif frame.in_value:
            frame.in_value = False
        else:
            frame.at, frame.in_value = text, True


class _Loader(yaml.SafeLoader):
    """Safe YAML with YAML 1.2 booleans: `yes`, `no`, `on`, `off` stay text (plan names).

    Mapping keys are kept as written (`1`, `true`, `1.0` are the text categories they
    look like), so that two keys YAML would read as equal (`true` and `1`) stay apart.
    Every event passes the `_Guard` as the composer takes it.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.guard = _Guard()

    def get_event(self) -> yaml.Event:
        event = super().get_event()
        self.guard.see(event)
        return event

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):  # `!!set [a]`
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, but found {node.id}", node.start_mark
            )
        # every key is a scalar: the guard refuses lists and mappings as keys
        return {str(k.value): self.construct_object(v, deep=deep) for k, v in node.value}

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A value YAML's own constructors fail on (a date `2024-13-45`, an integer of
        5,000 digits, `!!timestamp abc`) is a malformed value at its line, not a crash."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError, TypeError, AttributeError):
            kind = str(node.tag).rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"{_shown(node.value)} is not a valid {kind}", node.start_mark
            ) from None


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _shown(value: Any, limit: int = 40) -> str:
    """A value as a message quotes it, cut short: a message is one line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _line_map(node: yaml.Node, path: tuple[str, ...], out: dict[tuple[str, ...], int]) -> None:
    """Record the line of every key and list item; refuse duplicate keys. (The tree has
    no aliases and is at most MAX_YAML_DEPTH deep: the guard saw to it.)"""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                where = ".".join(path) or "top level"
                raise _Refused(
                    line, f"{where}: key {key!r} appears twice (lines {seen[key]} and {line})"
                )
            seen[key] = line
            out[(*path, key)] = line
            _line_map(value_node, (*path, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*path, str(i))] = item.start_mark.line + 1
            _line_map(item, (*path, str(i)), out)


def _too_large(path: Path, size: int) -> SchemeError:
    return SchemeError(
        f"{path}: the scheme is {size:,} bytes; the limit is {MAX_SCHEME_BYTES:,} bytes"
    )


def _check_file(path: Path, info: os.stat_result) -> None:
    """A regular file within the size limit; a FIFO or a device could block or never end."""
    if stat.S_ISDIR(info.st_mode):
        raise SchemeError(f"{path}: is a directory, not a scheme file")
    if not stat.S_ISREG(info.st_mode):
        raise SchemeError(f"{path}: is not a regular file (a pipe, device or socket)")
    if info.st_size > MAX_SCHEME_BYTES:
        raise _too_large(path, info.st_size)


def _read(path: Path) -> bytes:
    """At most the size limit (plus one byte, to notice more) of a regular file, checked
    before it is opened, and again once open without blocking (it may have been swapped
    for a FIFO since)."""
    try:
        _check_file(path, path.stat())
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as stream:
            _check_file(path, os.fstat(stream.fileno()))
            data = stream.read(MAX_SCHEME_BYTES + 1)
            if len(data) > MAX_SCHEME_BYTES:  # it grew since
                raise _too_large(path, max(os.fstat(stream.fileno()).st_size, len(data)))
    except FileNotFoundError:  # a missing file, as for any input (exit 4): nothing to judge
        raise DataError(f"{path}: scheme file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the scheme file ({exc.strerror})") from None
    return data


def load_scheme(path: str | Path) -> Scheme:
    """Load and validate a scheme file; every problem in it is a SchemeError naming file
    and line (exit 3). A file that is not there or cannot be read is a DataError (exit 4),
    as for any input."""
    path = Path(path)
    data = _read(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemeError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_scheme(text, path)


def _yaml(text: str, path: Path) -> tuple[Any, dict[tuple[str, ...], int]]:
    """The data and the line of every key path, from one guarded parse."""
    try:
        loader = _Loader(text)  # reads the whole text for characters YAML refuses
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise SchemeError(
            f"{path}:{line}: malformed YAML: unacceptable character "
            f"#x{exc.character:04x}: {exc.reason}"
        ) from None
    try:
        node = loader.get_single_node()
        lines: dict[tuple[str, ...], int] = {}
        if node is not None:
            _line_map(node, (), lines)
        return (None if node is None else loader.construct_document(node)), lines
    except _Refused as exc:
        raise SchemeError(f"{path}:{exc.line}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise SchemeError(f"{path}{line}: malformed YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SchemeError(f"{path}: malformed YAML: {exc}") from None
    finally:
        loader.dispose()


def parse_scheme(text: str, path: str | Path = "<scheme>") -> Scheme:
    """Validate scheme text; `path` is only used in messages."""
    path = Path(path)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_SCHEME_BYTES:
        raise _too_large(path, size)
    data, lines = _yaml(text, path)
    if data is None:
        raise SchemeError(f"{path}: the scheme is empty")
    if not isinstance(data, dict):
        raise SchemeError(f"{path}:1: a scheme is a mapping of keys (name, id, signals, bands)")
    try:
        scheme = Scheme.model_validate(data)
    except ValidationError as exc:
        raise SchemeError(_format_validation(exc, path, lines)) from None
    scheme._source = path
    scheme._warnings = [f"{path}:{ln}: {msg}" for ln, msg in scheme_warnings(scheme, lines)]
    scheme._notes = [f"{path}:{ln}: {msg}" for ln, msg in weight_notes(scheme, lines)]
    scheme._lines = lines
    check_column_names(scheme)
    check_output_columns(scheme)
    read_kinds(scheme)  # a column read two ways, or against its declaration, is an error
    return scheme


def _known_keys() -> set[str]:
    keys: set[str] = set()
    for model in (Scheme, Signal, Group, Tier, Band, Alert, Segment, ExtraScore):
        for name, field in model.model_fields.items():
            keys.add(field.alias or name)
    return keys


# What the items of a bounded list or mapping are called, by its key.
_ITEMS = {
    "points": "tiers",
    "linear": "breakpoints",
    "map": "categories",
    "signals": "signals",
    "groups": "groups",
    "segments": "segments",
    "scores": "scores",
    "bands": "bands",
    "alerts": "alerts",
    "trends": "trend spans",
    "include": "columns",
    "columns": "declared columns",
    "na": "missing markers",
}


def _problem(err: Any, loc: tuple[str, ...]) -> str:
    """What is wrong, in words, for one pydantic error."""
    kind, given, ctx = err["type"], err.get("input"), err.get("ctx", {})
    if kind == "extra_forbidden":
        pool = set(ColumnType.model_fields) if loc[:1] == ("columns",) else _known_keys()
        close = close_matches(loc[-1], pool, cutoff=0.7)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown key {loc[-1]!r}{hint}"
    if kind == "missing":
        return f"required key {loc[-1]!r} is missing"
    if kind == "finite_number" or (kind == "float_type" and isinstance(given, int)):
        return f"must be a finite number (got {_shown(given)})"
    if kind == "greater_than":
        return f"must be greater than {number_text(ctx['gt'])} (got {_shown(given)})"
    if kind in ("less_than_equal", "greater_than_equal"):
        side, bound = ("less", ctx["le"]) if "le" in ctx else ("greater", ctx["ge"])
        return f"input should be {side} than or equal to {number_text(bound)} (got {_shown(given)})"
    if kind == "too_long":
        items = _ITEMS.get(loc[-1], "items") if loc else "items"
        return f"too many {items}: {len(given):,}; the limit is {ctx['max_length']:,}"
    if kind == "string_pattern_mismatch":
        return (
            f"{_shown(given)} is not a valid name: no control characters (tabs, line "
            "breaks), and no space at either end"
        )
    if kind == "value_error":
        return str(ctx["error"]) if "error" in ctx else err["msg"]
    if kind in ("model_type", "dict_type"):
        return f"must be a mapping of keys, such as {{type: number}} (got {_shown(given)})"
    msg = err["msg"][0].lower() + err["msg"][1:]
    if given is not None and not isinstance(given, dict | list):
        msg += f" (got {_shown(given)})"
    return msg


def _format_validation(exc: ValidationError, path: Path, lines: dict[tuple[str, ...], int]) -> str:
    """One line per problem: `file:line: key.path: what is wrong`."""
    problems: list[tuple[int, str]] = []
    for err in exc.errors(include_url=False):
        loc = tuple(str(p) for p in err["loc"] if p != "[key]")
        located = err.get("ctx", {}).get("error")
        if isinstance(located, LocatedError):
            loc = (*loc, *located.loc)
        msg = _problem(err, loc)
        line = line_for(loc, lines)
        where = f"{path}:{line}" if line else str(path)
        key = key_path(loc)
        problems.append((line or 0, f"{where}: {key + ': ' if key else ''}{msg}"))
    problems.sort(key=lambda p: p[0])
    if len(problems) == 1:
        return problems[0][1]
    return f"{path}: {len(problems)} problems in the scheme\n" + "\n".join(
        f"  {p}" for _, p in problems
    )
