"""Exercise checks of notebook 05_applications (Applications)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._common import call_answer, passed, require_answer


def _pareto_reference(points):
    """Brute-force Pareto front used to check the learner's answer."""
    unique = set(points)
    front = [p for p in unique
             if not any(q[0] >= p[0] and q[1] <= p[1] and q != p for q in unique)]
    return sorted(front, key=lambda p: (p[1], -p[0]))


def check_non_dominated(pareto_front: Callable) -> None:
    """Exercise 5.3: the non-dominated (accuracy, size) pairs, sorted by size."""
    name = "Exercise 5.3 (pareto_front)"
    rng = np.random.default_rng(5)
    cases = [
        [(0.9, 100), (0.95, 200), (0.92, 300), (0.97, 400)],
        [(0.9, 100), (0.9, 100), (0.8, 100), (0.9, 50)],
        [(0.5, 10)],
        [tuple(p) for p in np.round(rng.random((40, 2)) * [1, 1000], 2).tolist()],
    ]
    for points in cases:
        got = call_answer(pareto_front, name, list(points))
        require_answer(got, name)
        want = _pareto_reference(points)
        got = [tuple(p) for p in got]
        if sorted(got) == sorted(want) and got != want:
            raise AssertionError(f"{name}: the right points, but not sorted by size (smallest first). "
                                 "Hint: sort by the second element.")
        if any(p not in points for p in got):
            raise AssertionError(f"{name}: your front contains points that were not in the input. "
                                 "Hint: return (accuracy, size) pairs from the input, unchanged.")
        if len(set(got)) != len(got):
            raise AssertionError(f"{name}: a point appears twice. Hint: keep duplicates only once.")
        dominated = [p for p in got if p not in want]
        if dominated:
            raise AssertionError(f"{name}: {dominated[0]} is dominated by another point. Hint: a "
                                 "point is dominated when another is at least as accurate AND at "
                                 "most as large, and strictly better in one.")
        if len(got) < len(want):
            raise AssertionError(f"{name}: your front misses {len(want) - len(got)} non-dominated "
                                 f"point(s) for the input {points[:4]}... Hint: a point with the "
                                 "best accuracy so far, scanning from the smallest size, is on the front.")
    passed(name, "Optuna's study.best_trials is exactly this set for the study's trials.")


def check_fits_in_flash(fits_in_flash: Callable) -> None:
    """Exercise 5.2: does a model plus runtime fit in the flash budget?"""
    name = "Exercise 5.2 (fits_in_flash)"
    cases = [((10_000, 65_536, 40_000), True), ((30_000, 65_536, 40_000), False),
             ((65_536, 65_536, 0), True), ((65_537, 65_536, 0), False), ((25_536, 65_536, 40_000), True)]
    for args, want in cases:
        got = call_answer(fits_in_flash, name, *args)
        require_answer(got, name)
        if not isinstance(got, bool | np.bool_):
            raise AssertionError(f"{name}: fits_in_flash{args} should return True or False, got "
                                 f"{type(got).__name__}. Hint: return a comparison.")
        if bool(got) != want:
            raise AssertionError(f"{name}: fits_in_flash{args} returned {got}, which is wrong. "
                                 "Hint: both the model and the runtime must fit; a model that uses "
                                 "the flash exactly still fits.")
    try:
        call_answer(fits_in_flash, name, -1, 65_536, 0)
    except ValueError:
        pass
    else:
        raise AssertionError(f"{name}: a negative size was accepted. Hint: raise ValueError for "
                             "sizes below zero.")
    passed(name)


def check_throughput(throughput: Callable) -> None:
    """Exercise 5.1: images per second from a call's median latency and its batch size."""
    name = "Exercise 5.1 (throughput)"
    for median_us, batch in [(1_000_000.0, 1), (10.0, 1), (500.0, 32), (2.5, 4)]:
        got = call_answer(throughput, name, median_us, batch)
        require_answer(got, name)
        want = batch / (median_us * 1e-6)
        if np.isclose(got, 1 / (median_us * 1e-6)) and batch > 1:
            raise AssertionError(f"{name}: throughput({median_us}, {batch}) ignores the batch size. "
                                 "Hint: one call handles batch_size images.")
        if np.isclose(got, batch / median_us):
            raise AssertionError(f"{name}: throughput({median_us}, {batch}) is per microsecond. "
                                 "Hint: a second has 1,000,000 µs.")
        if not np.isclose(got, want, rtol=1e-9):
            raise AssertionError(f"{name}: throughput({median_us}, {batch}) returned {got}. "
                                 "Hint: images per call divided by seconds per call.")
    passed(name)
