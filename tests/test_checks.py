"""Each exercise check accepts the solution, rejects known wrong answers without revealing the
answer, and says plainly when an exercise is not attempted."""

from __future__ import annotations

import pytest

from helpers import checks


def not_attempted(*args):
    raise NotImplementedError()


CASES = {
    checks.check_dense_param_count: (
        lambda n, u: n * u + u,
        [lambda n, u: n * u, lambda n, u: (n + 1) * (u + 1), lambda n, u: "100480"],
        "100480",
    ),
    checks.check_float32_bytes: (
        lambda n: 4 * n,
        [lambda n: 32 * n, lambda n: n, lambda n: 4 * n + 1],
        "407080",
    ),
    checks.check_bytes_at_bits: (
        lambda n, b: n * b / 8,
        [lambda n, b: n * b, lambda n, b: n * b // 8 + 1, lambda n, b: None],
        "101770.0",
    ),
}


@pytest.mark.parametrize("check", CASES, ids=lambda c: c.__name__)
def test_check_accepts_solution_and_rejects_wrong_answers(check, capsys):
    solution, wrong_answers, answer_text = CASES[check]
    check(solution)
    assert "✅" in capsys.readouterr().out
    for wrong in wrong_answers:
        with pytest.raises((AssertionError, NotImplementedError)) as info:
            check(wrong)
        message = str(info.value)
        assert "Hint" in message or "not attempted" in message
        assert answer_text not in message, "a failure message must not reveal the answer"


@pytest.mark.parametrize("check", CASES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("placeholder", [not_attempted, None, ...])
def test_check_says_plainly_when_not_attempted(check, placeholder):
    with pytest.raises(NotImplementedError, match="not attempted yet"):
        check(placeholder)
