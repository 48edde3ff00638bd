"""The one assertion every exercise-check table shares: the solution passes, each wrong answer fails."""

from __future__ import annotations

import pytest


def assert_accepts_solution_rejects_wrong(check, solution, wrong_answers, capsys) -> None:
    """`check(solution)` prints ✅; `check(wrong)` raises an AssertionError with a hint, for each."""
    check(solution)
    assert "✅" in capsys.readouterr().out
    for wrong in wrong_answers:
        with pytest.raises(AssertionError, match="Hint"):
            check(wrong)
