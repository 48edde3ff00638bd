"""The machinery every exercise check shares: an exercise not attempted yet (a stub raising
NotImplementedError, `None`, `...`, a body of `pass`) is reported plainly as not attempted, for
every check in helpers.checks (discovered, so checks added later are covered too)."""

from __future__ import annotations

import inspect

import pytest

from helpers import checks
from helpers.checks import NotAttemptedError


def stub(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError()


def body_pass(*args, **kwargs):
    pass


def body_ellipsis(*args, **kwargs):
    ...


PLACEHOLDERS = {"raise NotImplementedError()": stub, "None": None, "...": ...,
                "function body `pass`": body_pass, "function body `...`": body_ellipsis}

CHECKS = {name: f for name, f in vars(checks).items()
          if name.startswith("check_") and inspect.isfunction(f)}


def takes_only_the_answer(check) -> bool:
    """True if every parameter after the first has a default (the check can be called with one)."""
    params = list(inspect.signature(check).parameters.values())[1:]
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in params)


def test_not_attempted_is_a_not_implemented_error():
    assert issubclass(NotAttemptedError, NotImplementedError)


@pytest.mark.parametrize("placeholder", [None, ...], ids=["None", "..."])
def test_require_answer_rejects_placeholders(placeholder):
    with pytest.raises(NotAttemptedError, match=r"^Exercise 9\.9 is not attempted yet"):
        checks.require_answer(placeholder, "Exercise 9.9")


@pytest.mark.parametrize("value", [0, 0.0, False, "", [], {}])
def test_require_answer_keeps_falsy_answers(value):
    assert checks.require_answer(value, "Exercise 9.9") is value


def test_call_answer_passes_arguments_and_returns_the_result():
    assert checks.call_answer(lambda a, b=0: a - b, "Exercise 9.9", 5, b=2) == 3


def test_call_answer_reports_a_stub_plainly_without_a_chained_traceback():
    with pytest.raises(NotAttemptedError, match="not attempted yet") as info:
        checks.call_answer(stub, "Exercise 9.9", 1)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_call_answer_lets_the_learners_own_errors_through():
    def broken(x):
        return x / 0

    with pytest.raises(ZeroDivisionError):
        checks.call_answer(broken, "Exercise 9.9", 1)


def test_call_answer_rejects_a_non_function():
    with pytest.raises(AssertionError, match="expected a function, got int"):
        checks.call_answer(3, "Exercise 9.9")


def test_every_check_is_discovered():
    assert {"check_dense_param_count", "check_float32_bytes", "check_bytes_at_bits"} <= set(CHECKS)


@pytest.mark.parametrize("placeholder", PLACEHOLDERS, ids=list(PLACEHOLDERS))
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_check_says_plainly_when_not_attempted(name, placeholder, capsys):
    check = CHECKS[name]
    if not takes_only_the_answer(check):
        pytest.skip(f"{name} needs more arguments than the answer; its own tests cover this")
    with pytest.raises(NotAttemptedError, match=r"Exercise \d+\.\d+.* is not attempted yet"):
        check(PLACEHOLDERS[placeholder])
    assert "✅" not in capsys.readouterr().out, "a placeholder must never pass"
