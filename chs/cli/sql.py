"""`chs sql`: compile a scheme to SQL for a warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chs.cli.common import console, print_json
from chs.cli.errors import guarded
from chs.cli.options import JsonOpt

HELP = """Compile a scheme into one SQL query that scores where the data lives.

The query computes what chs score computes (points, group scores, score, band,
coverage, reasons, segment, extra scores, alerts, scheme and hash) over a table, for
DuckDB, PostgreSQL, Spark, BigQuery or Snowflake, with the same numbers. Rows chs
score would reject are left out; --rejects lists them with their reason. --dbt writes
a dbt model reading {{ ref('TABLE') }} (or source:SOURCE.TABLE).

Example: chs sql schemes/saas.yaml --dialect postgres --table crm.customers -o score.sql
"""

DialectOpt = Annotated[
    str,
    typer.Option(
        "--dialect", metavar="NAME", help="duckdb, postgres, spark, bigquery or snowflake."
    ),
]
TableOpt = Annotated[
    str, typer.Option("--table", metavar="NAME", help="The input table (schema.table allowed).")
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", metavar="DATE", help="The run's date (default: CURRENT_DATE)."),
]
KeepOpt = Annotated[
    list[str] | None,
    typer.Option("--keep", metavar="COLUMN", help="Carry this input column too (repeatable)."),
]


@guarded
def sql(
    scheme: Annotated[Path, typer.Argument(metavar="SCHEME", help="Scheme file (YAML).")],
    dialect: DialectOpt = "duckdb",
    table: TableOpt = "customers",
    as_of: AsOfOpt = None,
    keep: KeepOpt = None,
    previous_table: Annotated[
        str | None,
        typer.Option(
            "--previous-table",
            metavar="NAME",
            help="The previous snapshot's scored table: adds delta and movement.",
        ),
    ] = None,
    rejects: Annotated[
        bool, typer.Option("--rejects", help="List the rows chs score would reject, and why.")
    ] = False,
    dbt: Annotated[bool, typer.Option("--dbt", help="Write a dbt model.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the SQL here.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    from chs.actions.check import parse_date
    from chs.actions.sql import sql

    day = parse_date(as_of, "--as-of") if as_of is not None else None
    result = sql(
        scheme,
        dialect=dialect,
        table=table,
        as_of=day,
        keep=keep,
        rejects=rejects,
        dbt=dbt,
        output=output,
        previous_table=previous_table,
    )
    if json:
        print_json(result)
    elif output is None:
        typer.echo(result["sql"], nl=False)
    else:
        console().print(f"SQL for {result['dialect']} written to {output}", highlight=False)
