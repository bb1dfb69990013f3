"""`chs schema`: print the scheme format's JSON Schema."""

from __future__ import annotations

from chs.cli.common import print_json
from chs.cli.errors import guarded

HELP = """Print the JSON Schema of the scheme format (draft-07), for editor completion.

Example: chs schema > chs-scheme.schema.json
"""


@guarded
def schema() -> None:
    from chs.actions.check import json_schema

    print_json(json_schema())
