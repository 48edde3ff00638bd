"""Argument checks shared by the helpers. Each error names the argument, the value it got and
what is allowed, e.g. "epochs must be a positive int, got 0" or "sparsity must be in [0, 1),
got 1.5". A value of the wrong type raises `ArgumentTypeError`: a TypeError that is also a
ValueError (the helpers raised ValueError for it before), like NumPy's AxisError."""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (also a ValueError: older `except ValueError` still works)."""


def _explain(allowed: str, hint: str) -> str:
    return f"{allowed} ({hint})" if hint else allowed


def _int_allowed(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"an int from {low} to {high}"
    if low == 1:
        return "a positive int"
    if low is not None:
        return f"an int >= {low}"
    return "an int" if high is None else f"an int <= {high}"


def integer(name: str, value: object, low: int | None = None, high: int | None = None,
            hint: str = "") -> int:
    """Return `value` as an int, or raise: ArgumentTypeError if it is not an integer (bool is
    not), ValueError if it lies outside [low, high] (either bound may be None)."""
    allowed = _explain(_int_allowed(low, high), hint)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be {allowed}, got {type(value).__name__} {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def positive_int(name: str, value: object, hint: str = "") -> int:
    """Return `value` as an int >= 1, or raise naming `name` (see `integer`)."""
    return integer(name, value, low=1, hint=hint)


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    return "" if high is None else f"{'<' if high_open else '<='} {high:g}"


def number(name: str, value: object, low: float | None = None, high: float | None = None, *,
           low_open: bool = False, high_open: bool = False, hint: str = "") -> float:
    """Return `value` as a float, or raise: ArgumentTypeError if it is not a real number (bool is
    not), ValueError if it is NaN, infinite or outside the interval from `low` to `high` (each
    bound included unless `low_open` / `high_open`; either may be None)."""
    interval = _interval(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        allowed = _explain(f"a number {interval}".strip(), hint)
        raise ArgumentTypeError(f"{name} must be {allowed}, got {type(value).__name__} {value!r}")
    bounded = low is not None and high is not None
    allowed = _explain(interval if bounded else f"a finite number {interval}".strip(), hint)
    above = low is None or (value > low if low_open else value >= low)
    below = high is None or (value < high if high_open else value <= high)
    if not (above and below and math.isfinite(value)):  # NaN compares False
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


def fraction(name: str, value: object, hint: str = "") -> float:
    """Return `value` as a float in [0, 1) (a split, a rate, a sparsity), or raise naming `name`."""
    return number(name, value, 0.0, 1.0, high_open=True, hint=hint)


def path_with_suffix(name: str, path: str | os.PathLike, suffix: str) -> Path:
    """Return `path` as a Path, or raise a ValueError naming `name` unless it ends in `suffix`."""
    path = Path(path)
    if path.suffix != suffix:
        raise ValueError(f"{name} must end in {suffix}, got {str(path)!r}")
    return path
