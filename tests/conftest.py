"""Fixtures every test module may ask for: the small schemes and files of support.py
written under tmp_path, the CLI runner, and the SQL engines of sql_engines.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sql_engines
from support import (
    CLI_DATA,
    CLI_SCHEME,
    MINI_LAST,
    MINI_SCHEME,
    MINI_THIS,
    TINY_LAST,
    TINY_SCHEME,
    TINY_THIS,
    invoke,
    write,
)
from support import runner as cli_runner
from typer.testing import CliRunner

from chs.scheme import Scheme, load_scheme

# -- the tiny library scheme (support.TINY_SCHEME): score == x -----------------------------


@pytest.fixture
def tiny_scheme_text() -> str:
    return TINY_SCHEME


@pytest.fixture
def tiny_scheme(tmp_path: Path) -> Path:
    """TINY_SCHEME in tmp_path/s.yaml."""
    return write(tmp_path / "s.yaml", TINY_SCHEME)


@pytest.fixture
def tiny_last_csv(tmp_path: Path) -> Path:
    """TINY_LAST in tmp_path/last.csv: the earlier snapshot."""
    return write(tmp_path / "last.csv", TINY_LAST)


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    """TINY_THIS in tmp_path/this.csv: the later snapshot."""
    return write(tmp_path / "this.csv", TINY_THIS)


@pytest.fixture
def tiny_pair(tiny_scheme: Path, tiny_last_csv: Path, tiny_csv: Path) -> tuple[Scheme, Path, Path]:
    """The loaded tiny scheme and its two snapshots: a falls 80 -> 40 (high -> low), b rises
    30 -> 70 (low -> high), c stays at 60, d leaves (45, low), e arrives (20, low), f falls
    55 -> 50 (high -> high)."""
    return load_scheme(tiny_scheme), tiny_last_csv, tiny_csv


# -- the CLI scheme (support.CLI_SCHEME) and its customers ---------------------------------


@pytest.fixture
def cli_scheme(tmp_path: Path) -> Path:
    return write(tmp_path / "scheme.yaml", CLI_SCHEME)


@pytest.fixture
def cli_data(tmp_path: Path) -> Path:
    return write(tmp_path / "customers.csv", CLI_DATA)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Where a run writes its scored CSV, in a folder that does not exist yet."""
    return tmp_path / "out" / "scored.csv"


# -- the monthly scheme (support.MINI_SCHEME) and its two months ---------------------------


@pytest.fixture
def mini_scheme(tmp_path: Path) -> Path:
    return write(tmp_path / "scheme.yaml", MINI_SCHEME)


@pytest.fixture
def last_csv(tmp_path: Path) -> Path:
    return write(tmp_path / "last.csv", MINI_LAST)


@pytest.fixture
def this_csv(tmp_path: Path) -> Path:
    return write(tmp_path / "this.csv", MINI_THIS)


@pytest.fixture
def last_parquet(tmp_path: Path, mini_scheme: Path, last_csv: Path) -> Path:
    """MINI_LAST scored by chs as of 2026-10-01 (a scored Parquet with its metadata)."""
    out = tmp_path / "last.parquet"
    result = invoke("score", last_csv, "-s", mini_scheme, "-o", out, "--as-of", "2026-10-01")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def this_parquet(tmp_path: Path, mini_scheme: Path, this_csv: Path) -> Path:
    out = tmp_path / "this.parquet"
    result = invoke("score", this_csv, "-s", mini_scheme, "-o", out, "--as-of", "2026-11-01")
    assert result.exit_code == 0, result.output
    return out


# -- the CLI runner --------------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    """The CliRunner `support.invoke` runs commands with (pass support.PLAIN_ENV as env)."""
    return cli_runner


# -- the SQL engines (sql_engines.py): one of each per test session -----------------------------


@pytest.fixture(scope="session")
def duckdb_engine() -> sql_engines.DuckDBEngine:
    return sql_engines.DuckDBEngine()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[sql_engines.PostgresEngine]:
    """The server of CHS_TEST_POSTGRES (`eval "$(.ci/postgres.sh start)"` starts one)."""
    url = os.environ.get(sql_engines.POSTGRES_VARIABLE)
    if not url:
        sql_engines.unavailable(
            f"{sql_engines.POSTGRES_VARIABLE} is not set: "
            'eval "$(.ci/postgres.sh start)" starts a throw-away server and sets it'
        )
    engine = sql_engines.PostgresEngine(url)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def spark_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sql_engines.SparkEngine]:
    """One local Spark session for the whole test session (it takes seconds to start)."""
    session = sql_engines.start_spark(tmp_path_factory.mktemp("spark"))
    yield sql_engines.SparkEngine(session)
    session.stop()


@pytest.fixture(
    params=[
        "duckdb",
        "postgres",
        pytest.param("spark", marks=pytest.mark.spark),
    ]
)
def sql_engine(request: pytest.FixtureRequest) -> sql_engines.Engine:
    """Each engine in turn: a test asking for it runs three times (the Spark run is marked
    `spark`, so `-m "not spark"` leaves it out)."""
    return request.getfixturevalue(f"{request.param}_engine")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that asks for spark_engine by name is marked `spark` too."""
    for item in items:
        if "spark_engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)


# -- headless Chromium (Debian's chromium; .ci/run installs it), driven by Playwright -------

CHROMIUM = Path("/usr/bin/chromium")
# as root, offline: no sandbox, and none of the background connections a closed network refuses
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    if not CHROMIUM.exists():
        sql_engines.unavailable(f"{CHROMIUM} is not installed (Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
