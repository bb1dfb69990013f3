"""The scoring engine: a scheme becomes Polars expressions over a lazy frame.

Everything is vectorised: tiers are `when/then` chains, linear mappings are piecewise
interpolations, categories a `when/then` chain, weights a horizontal sum. The engine
never collects; it returns lazy frames that the caller sinks, so Polars can stream.

    plan.py        ScoringPlan and build_plan: the whole file's checks, then each definition
    definition.py  one definition: points, weighted means, band, coverage, reasons
    values.py      one signal's value per row, and its row-level problem
    reasons.py     the signals that cost the most points, as one integer a place
"""

from chs.engine.plan import ScoringPlan, build_plan, score_frame

__all__ = ["ScoringPlan", "build_plan", "score_frame"]
