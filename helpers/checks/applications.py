"""Exercise checks of notebook 05_applications (Applications)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from ._common import _as_int, call_answer, passed, require_answer


def _peak_reference(shapes, bytes_per_value):
    sizes = [int(np.prod(shape)) * bytes_per_value for shape in shapes]
    pairs = [a + b for a, b in itertools.pairwise(sizes)]
    layer = int(np.argmax(pairs))  # the first of equal maxima
    return pairs[layer], layer


def check_activation_peak(activation_peak: Callable) -> None:
    """Exercise 5.1: the activation memory a sequential model needs at its peak, and the layer
    where it occurs, when each layer needs only its input and output buffers at once."""
    name = "Exercise 5.1 (activation_peak)"
    cases = [
        ([(1, 28, 28), (1, 784), (1, 128), (1, 10)], 4),
        ([(28, 28, 1), (26, 26, 32), (24, 24, 64), (12, 12, 64), (9216,), (10,)], 1),
        ([(10,), (100,), (1,), (90,), (90,)], 1),
        ([(4,), (4,), (4,), (2,)], 2),
        ([(3, 5), (7,)], 4),
        ([(2, 2), (1, 3), (4,), (3,)], 4),
    ]
    for shapes, bytes_per_value in cases:
        call = f"activation_peak({shapes}, {bytes_per_value})"
        got = require_answer(call_answer(activation_peak, name, list(shapes), bytes_per_value), name)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise AssertionError(f"{name}: {call} returned {got!r}. Hint: return a pair "
                                 "(peak bytes, layer index), e.g. `return peak, layer`.")
        peak = _as_int(got[0], name, f"the peak bytes of {call}")
        layer = _as_int(got[1], name, f"the layer index of {call}")
        want_peak, want_layer = _peak_reference(shapes, bytes_per_value)
        values = [int(np.prod(shape)) for shape in shapes]
        sizes = [v * bytes_per_value for v in values]
        if peak != want_peak:
            if peak == max(sizes):
                hint = ("that is the largest single buffer. Hint: while a layer runs, its input "
                        "and its output must both be in memory.")
            elif peak == sum(sizes):
                hint = ("that keeps every buffer at once. Hint: a buffer can be reused once the "
                        "layer that reads it has run; only one layer's input and output coexist.")
            elif bytes_per_value > 1 and peak * bytes_per_value == want_peak:
                hint = "that counts values, not bytes. Hint: multiply by bytes_per_value."
            elif peak == sum(sorted(sizes)[-2:]):
                hint = ("that adds the two largest buffers, which need not belong to the same "
                        "layer. Hint: pair each layer's input with its own output (neighbours "
                        "in the list).")
            elif peak == _peak_reference([(sum(s),) for s in shapes], bytes_per_value)[0]:
                hint = ("the buffer sizes are not right. Hint: a buffer of shape (a, b, c) holds "
                        "a × b × c values: multiply the dimensions, do not add them.")
            else:
                hint = ("it is not right. Hint: layer i reads shapes[i] and writes shapes[i + 1]; "
                        "take the largest of these input + output totals, in bytes.")
            raise AssertionError(f"{name}: {call} says the peak is {peak} bytes: {hint}")
        if layer != want_layer:
            pairs = [a + b for a, b in itertools.pairwise(sizes)]
            if 0 <= layer < len(pairs) and pairs[layer] == want_peak:
                hint = "several layers tie here. Hint: report the first of them."
            elif layer == want_layer + 1:
                hint = ("that looks like the index of the layer's output buffer. Hint: layer i "
                        "is the one that reads shapes[i] (the first layer is 0).")
            else:
                hint = "it does not need the peak. Hint: layer i reads shapes[i] and writes shapes[i + 1]."
            raise AssertionError(f"{name}: {call} says the peak is at layer {layer}: {hint}")
    passed(name, "This is how a tensor arena planner sizes memory for a chain of layers.")


_BUDGETS = (("bytes", "flash_bytes"), ("ram_bytes", "ram_bytes"), ("latency_us", "latency_budget_us"))


def _fits(candidate: dict, budgets: dict) -> bool:
    return all(candidate[key] <= budgets[argument] for key, argument in _BUDGETS)


def check_choose_model(choose_model: Callable) -> None:
    """Exercise 5.2: the most accurate candidate within a flash, a RAM and a latency budget (ties:
    fewer bytes of flash; None when none fits)."""
    name = "Exercise 5.2 (choose_model)"
    candidates = {
        "a": {"accuracy": 0.97, "bytes": 400_000, "ram_bytes": 20_000, "latency_us": 50.0},
        "b": {"accuracy": 0.95, "bytes": 100_000, "ram_bytes": 12_000, "latency_us": 20.0},
        "c": {"accuracy": 0.99, "bytes": 900_000, "ram_bytes": 60_000, "latency_us": 300.0},
        "d": {"accuracy": 0.95, "bytes": 60_000, "ram_bytes": 30_000, "latency_us": 25.0},
        "e": {"accuracy": 0.98, "bytes": 300_000, "ram_bytes": 16_000, "latency_us": 2_000.0},
        "f": {"accuracy": 0.985, "bytes": 200_000, "ram_bytes": 90_000, "latency_us": 40.0},
    }
    budgets = [(500_000, 64_000, 100.0), (1_000_000, 64_000, 1_000.0), (1_000_000, 64_000, 5_000.0),
               (80_000, 64_000, 1_000.0), (500_000, 64_000, 30.0), (400_000, 64_000, 1_000.0),
               (1_000_000, 64_000, 50.0), (50_000, 64_000, 1_000.0), (1_000_000, 64_000, 10.0),
               (0, 0, 0.0), (500_000, 128_000, 100.0), (500_000, 20_000, 100.0),
               (500_000, 16_000, 100.0), (100_000, 12_000, 100.0), (1_000_000, 11_999, 5_000.0)]
    for index, (flash, ram, latency) in enumerate(budgets):
        call = (f"choose_model(candidates, flash_bytes={flash:,}, ram_bytes={ram:,}, "
                f"latency_budget_us={latency})")
        limits = {"flash_bytes": flash, "ram_bytes": ram, "latency_budget_us": latency}
        fits = {n: c for n, c in candidates.items() if _fits(c, limits)}
        want = max(fits, key=lambda n: (fits[n]["accuracy"], -fits[n]["bytes"])) if fits else None
        try:
            got = call_answer(choose_model, name, {n: dict(c) for n, c in candidates.items()},
                              flash, ram, latency)
        except (ValueError, TypeError, KeyError, IndexError) as error:
            hint = ("Hint: when no candidate meets all three budgets, return None (max() of an "
                    "empty sequence raises)." if not fits else "Hint: candidates maps each name to "
                    "a dict with 'accuracy', 'bytes', 'ram_bytes' and 'latency_us'.")
            raise AssertionError(f"{name}: {call} raised {type(error).__name__}: {error}. {hint}") \
                from None
        if index == 0:  # a candidate fits here: None means an empty body, not an answer
            require_answer(got, name)
        if got == want:
            continue
        if want is None:
            hint = "no candidate meets all three budgets here. Hint: return None when nothing fits."
        elif got is None:
            hint = ("at least one candidate meets all three budgets. Hint: a model that uses "
                    "exactly a budget still fits (compare with <=).")
        elif not isinstance(got, str) or got not in candidates:
            hint = "that is not a candidate's name. Hint: return the key (the name), not its numbers."
        elif candidates[got]["bytes"] > flash:
            hint = f"{got!r} does not fit in the flash. Hint: check bytes <= flash_bytes."
        elif candidates[got]["ram_bytes"] > ram:
            hint = (f"{got!r} needs more RAM than the device has. Hint: check ram_bytes against "
                    "the RAM budget as well.")
        elif candidates[got]["latency_us"] > latency:
            hint = f"{got!r} is too slow. Hint: check latency_us <= latency_budget_us as well."
        elif candidates[got]["accuracy"] < fits[want]["accuracy"]:
            hint = (f"a more accurate candidate than {got!r} meets all three budgets. Hint: among "
                    "the candidates that fit, take the most accurate (a model that uses exactly a "
                    "budget still fits).")
        else:
            hint = (f"another candidate is as accurate as {got!r} and smaller. Hint: on equal "
                    "accuracy, prefer fewer bytes of flash.")
        raise AssertionError(f"{name}: {call} returned {got!r}: {hint}")
    passed(name, "The same rule, applied to the measured models, picks what a device can run.")


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
        [(0.95, 80), (0.9, 50), (0.9, 50), (0.7, 60)],
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
