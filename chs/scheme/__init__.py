"""The scheme: what to score and how, loaded from YAML and validated before any data.

model.py       the pydantic model (signals, tiers, groups, bands, segments, alerts)
expression.py  SQL expressions in a scheme, as Polars expressions
keys.py        key paths and their lines, for messages
load.py        YAML with line numbers; one message per problem
lint.py        warnings about a valid scheme
jsonschema.py  the format as JSON Schema, for editors
"""

from chs.scheme.expression import parse_sql_expr
from chs.scheme.jsonschema import json_schema
from chs.scheme.lint import tier_problems
from chs.scheme.load import load_scheme, parse_scheme
from chs.scheme.model import (
    SEVERITIES,
    TREND_COLUMN,
    Alert,
    Band,
    ExtraScore,
    FlatSignal,
    Group,
    Interval,
    Scheme,
    Segment,
    Signal,
    Tier,
    number_text,
)

__all__ = [
    "SEVERITIES",
    "TREND_COLUMN",
    "Alert",
    "Band",
    "ExtraScore",
    "FlatSignal",
    "Group",
    "Interval",
    "Scheme",
    "Segment",
    "Signal",
    "Tier",
    "json_schema",
    "load_scheme",
    "number_text",
    "parse_scheme",
    "parse_sql_expr",
    "tier_problems",
]
