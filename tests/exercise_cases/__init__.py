"""Known-wrong answers for every exercise check, one module per notebook (`lesson01` … `lesson06`).

Each module defines `CASES`: for each check function of `helpers.checks.LESSONS[NN]`, a `Case`
with at least three known-wrong answers, and optionally `namespace()`: the names the notebook's
exercise and hidden-test cells need besides `np` and `checks` (e.g. `keras`). The reference
solutions are *not* here: tests/test_exercise_checks.py takes them from the notebooks' solution
regions, so each notebook stays the single source of truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Case:
    """How to call one check, and answers it must reject."""

    wrong: list[Callable]
    """Known-wrong answers: each must make the check raise AssertionError with a hint."""
    extra_args: Callable[[], tuple] = field(default=lambda: ())
    """Arguments the check takes after the learner's answer (built lazily: some train a model)."""
