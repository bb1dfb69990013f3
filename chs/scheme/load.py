"""Loading a scheme from YAML: line numbers for every key, one message per problem."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from chs.errors import SchemeError
from chs.hints import close_matches
from chs.scheme.keys import LocatedError, key_path, line_for
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
    number_text,
)


class _Loader(yaml.SafeLoader):
    """Safe YAML with YAML 1.2 booleans: `yes`, `no`, `on`, `off` stay text (plan names).

    Mapping keys are kept as written (`1`, `true`, `1.0` are the text categories they
    look like), so that two keys YAML would read as equal (`true` and `1`) stay apart.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        return {
            (str(k.value) if isinstance(k, yaml.ScalarNode) else self.construct_object(k, deep)): (
                self.construct_object(v, deep=deep)
            )
            for k, v in node.value
        }


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _line_map(node: yaml.Node, path: tuple[str, ...], out: dict[tuple[str, ...], int]) -> None:
    """Record the line of every key and list item; refuse duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                where = ".".join(path) or "top level"
                raise _DuplicateKey(
                    line, f"{where}: key {key!r} appears twice (lines {seen[key]} and {line})"
                )
            seen[key] = line
            out[(*path, key)] = line
            _line_map(value_node, (*path, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*path, str(i))] = item.start_mark.line + 1
            _line_map(item, (*path, str(i)), out)


class _DuplicateKey(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def load_scheme(path: str | Path) -> Scheme:
    """Load and validate a scheme file; every problem is a SchemeError naming file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemeError(f"{path}: scheme file not found") from None
    except IsADirectoryError:
        raise SchemeError(f"{path}: is a directory, not a scheme file") from None
    except UnicodeDecodeError as exc:
        raise SchemeError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_scheme(text, path)


def parse_scheme(text: str, path: str | Path = "<scheme>") -> Scheme:
    """Validate scheme text; `path` is only used in messages."""
    path = Path(path)
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise SchemeError(f"{path}{line}: malformed YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SchemeError(f"{path}: malformed YAML: {exc}") from None
    if data is None:
        raise SchemeError(f"{path}: the scheme is empty")
    if not isinstance(data, dict):
        raise SchemeError(f"{path}:1: a scheme is a mapping of keys (name, id, signals, bands)")
    lines: dict[tuple[str, ...], int] = {}
    try:
        _line_map(node, (), lines)
    except _DuplicateKey as exc:
        raise SchemeError(f"{path}:{exc.line}: {exc.message}") from None
    try:
        scheme = Scheme.model_validate(data)
    except ValidationError as exc:
        raise SchemeError(_format_validation(exc, path, lines)) from None
    scheme._source = path
    scheme._warnings = [f"{path}:{ln}: {msg}" for ln, msg in scheme_warnings(scheme, lines)]
    scheme._notes = [f"{path}:{ln}: {msg}" for ln, msg in weight_notes(scheme, lines)]
    scheme._lines = lines
    return scheme


def _known_keys() -> set[str]:
    keys: set[str] = set()
    for model in (Scheme, Signal, Group, Tier, Band, Alert, Segment, ExtraScore):
        for name, field in model.model_fields.items():
            keys.add(field.alias or name)
    return keys


def _format_validation(exc: ValidationError, path: Path, lines: dict[tuple[str, ...], int]) -> str:
    """One line per problem: `file:line: key.path: what is wrong`."""
    problems: list[tuple[int, str]] = []
    for err in exc.errors(include_url=False):
        loc = tuple(str(p) for p in err["loc"] if p != "[key]")
        kind, given = err["type"], err.get("input")
        located = err.get("ctx", {}).get("error")
        if isinstance(located, LocatedError):
            loc = (*loc, *located.loc)
        if kind == "extra_forbidden":
            key = loc[-1]
            close = close_matches(key, _known_keys(), cutoff=0.7)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            msg = f"unknown key {key!r}{hint}"
        elif kind == "missing":
            msg = f"required key {loc[-1]!r} is missing"
        elif kind == "greater_than":
            msg = f"must be greater than {number_text(err['ctx']['gt'])} (got {given})"
        elif kind == "string_pattern_mismatch":
            msg = f"{given!r} is not a valid name: use letters, digits and _, not starting with a digit"
        elif kind == "value_error":
            msg = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
        else:
            msg = err["msg"][0].lower() + err["msg"][1:]
            if given is not None and not isinstance(given, dict | list):
                msg += f" (got {given!r})"
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
