"""The limits a scheme must keep, in one place (the README's table quotes them).

A scheme is hand-written review material, a few kilobytes long. Each limit is far above
what a real scheme needs and low enough that loading, checking and scoring the largest
allowed scheme stays quick and bounded in memory: a hostile file fails with one clear
message instead of exhausting the stack, the memory or the CPU.
"""

from __future__ import annotations

# -- the file, read before any YAML is parsed ---------------------------------------------
MAX_SCHEME_BYTES = 1_000_000  # 1 MB; the shipped schemes are under 5 KB

# -- the YAML, checked event by event while it is composed, before anything is built ------
MAX_YAML_DEPTH = 20  # nested lists and mappings; a scheme needs 9 at most
MAX_YAML_NODES = 20_000  # keys, values, lists and mappings: bounds the time to load (< 1 s)

# -- counts, checked by the model (key path and line in the message) -----------------------
# Each tier, breakpoint and category is one step of a when/then chain in the scoring plan,
# whose time and memory grow with the square of its length (one map of 1,000 categories
# took 3 s and 950 MB in `chs check --data`, nine of them 57 s and 7 GB): the per-signal
# limits bound one chain, MAX_RULES their sum and MAX_SIGNALS their number. At these limits
# `chs check --data` of 10,000 rows takes at most about 6 s and 700 MB (200 signals in 50
# segments); without them it took minutes and gigabytes.
MAX_TIERS = 100  # `points` tiers per signal
MAX_LINEAR_POINTS = 100  # `linear` breakpoints per signal
MAX_MAP_ENTRIES = 250  # `map` categories per signal (every country code fits)
MAX_RULES = 2_000  # tiers, breakpoints and categories in all
MAX_SIGNALS = 200  # signals in all: every segment, group and extra score counted
MAX_GROUPS = 50  # groups per definition (the scheme, a segment or an extra score)
MAX_SEGMENTS = 50
MAX_SCORES = 20  # extra scores beside the main one
MAX_BANDS = 20  # bands of a score
MAX_ALERTS = 100
MAX_ALERT_COLUMNS = 50  # input columns an alert carries into the alerts file (`include`)
MAX_TRENDS = 20  # declared change_<N>d spans

# -- names: signals, groups, bands, alerts, segments, extra scores, and labels ---------------
MAX_NAME_CHARS = 100

# -- numbers: every number in a scheme is finite, and these bound the rest ------------------
MAX_WEIGHT = 1_000_000.0  # 200 signals of this weight sum to 2e8: no overflow
MIN_WEIGHT = 0.000_001  # smaller weights lose precision in the weighted sums (subnormals)
MAX_MAGNITUDE = 1e15  # tier bounds and linear breakpoints: integers stay exact (< 2**53),
# a bound plus one is a different number, and a segment's width cannot overflow
MIN_MAGNITUDE = 1e-12  # a non-zero bound is at least this in size: smaller ones (subnormal
# numbers) are flushed to 0 by vectorised arithmetic, and a segment's width with them

# -- SQL expressions (enforced by chs.scheme.expression) -----------------------------------
MAX_EXPRESSION_CHARS = 2_000
MAX_EXPRESSION_NODES = 500
MAX_EXPRESSION_DEPTH = 100  # a chain `a + b + c …` is as deep as it is long
MAX_EXPANDED_NODES = 2_000  # once translated: a node used twice (`%`, NULLIF) counts twice
MAX_PAD_LENGTH = 1_000  # lpad, rpad, repeat: the length of the text they make
# the text an expression can make, per row: at most this many characters beyond what it
# reads, and at most this many times the longest cell it reads (REPLACE, CONCAT, LPAD)
MAX_TEXT_CHARS = 10_000
MAX_TEXT_TIMES = 50

# -- declared columns (`columns:`) ---------------------------------------------------------
MAX_DECLARED_COLUMNS = 500  # a wide CRM export has a few hundred columns
MAX_COLUMN_CHARS = 1_000  # a declared column's name
MAX_NA_MARKERS = 20  # extra missing markers per column (`na:`)
MAX_MARKER_CHARS = 40
MAX_FORMAT_CHARS = 40  # a date `format:` such as `%d/%m/%Y`
