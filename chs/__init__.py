"""chs: customer health scores from signal exports and a YAML scheme.

Only the version lives here so that `chs --help` and `chs --version` stay instant:
the heavy modules (polars, pydantic) are imported by the commands that need them.
"""

__version__ = "0.1.0"
