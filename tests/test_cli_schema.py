"""`chs schema` (chs/cli/schema.py): the JSON Schema of the scheme format. In process
through typer's CliRunner (see tests/test_cli.py): stdout and stderr apart, plain ASCII
tables 200 columns wide, no colour. Every file is written under tmp_path; the
repository's sample data is only read.
"""

from __future__ import annotations

import json

from support import invoke

from chs.scheme import json_schema


def test_schema_prints_the_json_schema() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json_schema()
    assert result.stderr == ""
