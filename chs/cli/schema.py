"""`chs schema`: print the scheme format's JSON Schema."""

from __future__ import annotations

from chs.cli.common import guarded, print_json

HELP = """Print the JSON Schema of the scheme format (draft-07), for editor completion.

Example: chs schema > chs-scheme.schema.json
"""


@guarded
def schema() -> None:
    from chs.scheme import json_schema

    print_json(json_schema())
