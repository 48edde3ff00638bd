"""The checks of notebook 05 accept the solutions and reject known wrong answers."""

from __future__ import annotations

import numpy as np
import pytest
from check_table import assert_accepts_solution_rejects_wrong

from helpers import checks


def front_solution(points):
    unique = sorted(set(points), key=lambda p: (p[1], -p[0]))
    front, best = [], -np.inf
    for accuracy, size in unique:
        if accuracy > best:
            front.append((accuracy, size))
            best = accuracy
    return front


def fits_solution(model, flash, runtime=0):
    if min(model, flash, runtime) < 0:
        raise ValueError("negative")
    return model + runtime <= flash


CASES = {
    checks.check_non_dominated: (front_solution, [
        lambda pts: sorted(set(pts), key=lambda p: p[1]),                  # everything
        lambda pts: list(reversed(front_solution(pts))),                   # wrong order
        lambda pts: front_solution(pts)[:-1],                              # misses a point
        lambda pts: [max(pts)],                                            # only the most accurate
    ]),
    checks.check_fits_in_flash: (fits_solution, [
        lambda m, f, r=0: m <= f,                                          # forgets the runtime
        lambda m, f, r=0: m + r < f,                                       # exact fit rejected
        lambda m, f, r=0: m + r <= f,                                      # accepts negatives
        lambda m, f, r=0: "yes",
    ]),
    checks.check_throughput: (lambda us, b: b / (us * 1e-6), [
        lambda us, b: 1 / (us * 1e-6),                                     # ignores the batch
        lambda us, b: b / us,                                              # per microsecond
        lambda us, b: us / b,
    ]),
}


@pytest.mark.parametrize("check", CASES, ids=lambda c: c.__name__)
def test_accepts_solution_rejects_wrong(check, capsys):
    assert_accepts_solution_rejects_wrong(check, *CASES[check], capsys)


@pytest.mark.parametrize("check", CASES, ids=lambda c: c.__name__)
def test_not_attempted(check):
    def placeholder(*args):
        raise NotImplementedError()

    for answer in (placeholder, None, ...):
        with pytest.raises(checks.NotAttemptedError, match="not attempted"):
            check(answer)
