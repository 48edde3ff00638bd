"""Known-wrong answers for notebook 05's exercise checks (the solutions come from the notebook)."""

import itertools

import numpy as np

from exercise_cases import Case


def _sizes(shapes, bytes_per_value):
    return [int(np.prod(shape)) * bytes_per_value for shape in shapes]


def _pairs(shapes, bytes_per_value):
    sizes = _sizes(shapes, bytes_per_value)
    return [a + b for a, b in itertools.pairwise(sizes)]


def _largest_single_buffer(shapes, bytes_per_value):   # forgets that input and output coexist
    sizes = _sizes(shapes, bytes_per_value)
    return max(sizes), int(np.argmax(sizes))


def _every_buffer_at_once(shapes, bytes_per_value):    # no reuse: the upper bound
    return sum(_sizes(shapes, bytes_per_value)), 0


def _values_not_bytes(shapes, bytes_per_value):        # forgets bytes_per_value
    pairs = _pairs(shapes, 1)
    return max(pairs), int(np.argmax(pairs))


def _output_buffer_index(shapes, bytes_per_value):     # reports the output buffer's index
    pairs = _pairs(shapes, bytes_per_value)
    return max(pairs), int(np.argmax(pairs)) + 1


def _last_of_a_tie(shapes, bytes_per_value):
    pairs = _pairs(shapes, bytes_per_value)
    return max(pairs), len(pairs) - 1 - int(np.argmax(pairs[::-1]))


def _two_largest_buffers(shapes, bytes_per_value):     # ignores which layer owns them
    sizes = sorted(_sizes(shapes, bytes_per_value))
    pairs = _pairs(shapes, bytes_per_value)
    return sizes[-1] + sizes[-2], int(np.argmax(pairs))


def _dims_added(shapes, bytes_per_value):              # sum(shape) instead of its product
    sizes = [sum(shape) * bytes_per_value for shape in shapes]
    pairs = [a + b for a, b in itertools.pairwise(sizes)]
    return max(pairs), int(np.argmax(pairs))


def _best(fits):
    return max(fits, key=lambda n: (fits[n]["accuracy"], -fits[n]["bytes"])) if fits else None


def _within(candidates, flash_bytes, ram_bytes, latency_budget_us):
    return {n: c for n, c in candidates.items() if c["bytes"] <= flash_bytes
            and c["ram_bytes"] <= ram_bytes and c["latency_us"] <= latency_budget_us}


def _ignores_latency(candidates, flash_bytes, ram_bytes, latency_budget_us):
    return _best(_within(candidates, flash_bytes, ram_bytes, float("inf")))


def _ignores_flash(candidates, flash_bytes, ram_bytes, latency_budget_us):
    return _best(_within(candidates, float("inf"), ram_bytes, latency_budget_us))


def _ignores_ram(candidates, flash_bytes, ram_bytes, latency_budget_us):   # the budget 5.2 added
    return _best(_within(candidates, flash_bytes, float("inf"), latency_budget_us))


def _ram_against_the_flash(candidates, flash_bytes, ram_bytes, latency_budget_us):  # one memory
    return _best({n: c for n, c in candidates.items() if c["bytes"] + c["ram_bytes"] <= flash_bytes
                  and c["latency_us"] <= latency_budget_us})


def _exact_fit_rejected(candidates, flash_bytes, ram_bytes, latency_budget_us):
    return _best({n: c for n, c in candidates.items() if c["bytes"] < flash_bytes
                  and c["ram_bytes"] < ram_bytes and c["latency_us"] < latency_budget_us})


def _tie_goes_to_the_larger(candidates, flash_bytes, ram_bytes, latency_budget_us):
    fits = _within(candidates, flash_bytes, ram_bytes, latency_budget_us)
    return max(fits, key=lambda n: (fits[n]["accuracy"], fits[n]["bytes"])) if fits else None


def _smallest_that_fits(candidates, flash_bytes, ram_bytes, latency_budget_us):
    fits = _within(candidates, flash_bytes, ram_bytes, latency_budget_us)
    return min(fits, key=lambda n: fits[n]["bytes"]) if fits else None


def _max_of_nothing_raises(candidates, flash_bytes, ram_bytes, latency_budget_us):
    fits = _within(candidates, flash_bytes, ram_bytes, latency_budget_us)
    return max(fits, key=lambda n: (fits[n]["accuracy"], -fits[n]["bytes"]))


def _returns_the_numbers(candidates, flash_bytes, ram_bytes, latency_budget_us):
    fits = _within(candidates, flash_bytes, ram_bytes, latency_budget_us)
    name = _best(fits)
    return None if name is None else fits[name]


def _front(points):
    unique = sorted(set(points), key=lambda p: (p[1], -p[0]))
    front, best = [], -np.inf
    for accuracy, size in unique:
        if accuracy > best:
            front.append((accuracy, size))
            best = accuracy
    return front


def _every_point(points):                               # nothing filtered out
    return sorted(set(points), key=lambda p: p[1])


def _largest_first(points):                             # the right points, wrong order
    return list(reversed(_front(points)))


def _misses_the_most_accurate(points):
    return _front(points)[:-1]


def _only_the_most_accurate(points):
    return [max(points)]


def _keeps_duplicates(points):
    front = _front(points)
    return sorted([p for p in points if p in front], key=lambda p: (p[1], -p[0]))


CASES = {
    "check_activation_peak": Case(wrong=[_largest_single_buffer, _every_buffer_at_once,
                                         _values_not_bytes, _output_buffer_index, _last_of_a_tie,
                                         _two_largest_buffers, _dims_added]),
    "check_choose_model": Case(wrong=[_ignores_latency, _ignores_flash, _ignores_ram,
                                      _ram_against_the_flash, _exact_fit_rejected,
                                      _tie_goes_to_the_larger, _smallest_that_fits,
                                      _max_of_nothing_raises, _returns_the_numbers]),
    "check_non_dominated": Case(wrong=[_every_point, _largest_first, _misses_the_most_accurate,
                                       _only_the_most_accurate, _keeps_duplicates]),
}
