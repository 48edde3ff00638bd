"""What every exercise check shares: the not-attempted error, calling the learner's function, the pass line."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from helpers.i18n import _, exercise_label


class NotAttemptedError(NotImplementedError):
    """Raised by a check when the exercise still holds its placeholder."""


def _not_attempted(exercise: str) -> NotAttemptedError:
    return NotAttemptedError(_(
        "{exercise} is not attempted yet: replace `raise NotImplementedError()` (or the `None`) "
        "with your code, run that cell, then run this check again.").format(exercise=exercise_label(exercise)))


def require_answer(value, exercise: str):
    """Return `value`, or raise NotAttemptedError if it is still a placeholder (None or ...)."""
    if value is None or value is Ellipsis:
        raise _not_attempted(exercise)
    return value


def call_answer(function: Callable, exercise: str, *args, **kwargs):
    """Call the learner's function, turning NotImplementedError into a plain 'not attempted' error."""
    require_answer(function, exercise)
    if not callable(function):
        raise AssertionError(_("{exercise}: expected a function, got {type}.").format(
            exercise=exercise_label(exercise), type=type(function).__name__))
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise _not_attempted(exercise) from None


def passed(exercise: str, detail: str = "") -> None:
    """Print the pass message of an exercise."""
    line = _("✅ {exercise} passed.").format(exercise=exercise_label(exercise))
    print(f"{line} {detail}".rstrip())


def _as_int(value, exercise: str, what: str) -> int:
    require_answer(value, exercise)
    if isinstance(value, bool) or not isinstance(value, int | np.integer | float | np.floating):
        raise AssertionError(_("{exercise}: {what} should be a number, got {type}. "
                               "Hint: return the result of arithmetic, not a string or a list.").format(
            exercise=exercise_label(exercise), what=what, type=type(value).__name__))
    if float(value) != int(value):
        raise AssertionError(_("{exercise}: {what} should be a whole number, got {value}. "
                               "Hint: counts of parameters and bytes are integers.").format(
            exercise=exercise_label(exercise), what=what, value=value))
    return int(value)


Result = TypeVar("Result")


def in_own_thread(function: Callable[..., Result], *args) -> Result:
    """Return `function(*args)`, run in a worker thread; its exceptions are raised here.

    A check that builds models of its own runs them this way so that the lesson's next models keep
    their names: TensorFlow's default graph is a property of the thread
    (tf.compat.v1.get_default_graph), and tf_keras numbers the names it generates per graph
    (Keras 3 keeps its global state per thread too). The check's layers must still use
    initializers that draw no random numbers: Python's, NumPy's and TensorFlow's random streams
    are shared by all threads (and an unseeded tf_keras initializer in a worker thread draws from
    Python's).
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="check") as pool:
        return pool.submit(function, *args).result()
