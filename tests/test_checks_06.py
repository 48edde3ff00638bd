"""The checks of notebook 06 accept the solutions, reject known wrong answers without revealing
the answer, and say plainly when an exercise is not attempted."""

from __future__ import annotations

import math

import pytest
from ai_edge_quantizer import qtyping, recipe
from check_table import assert_accepts_solution_rejects_wrong

from helpers import checks

FC = qtyping.TFLOperationName.FULLY_CONNECTED


def sparsity_solution(step, initial, final, begin_step, end_step):
    progress = min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)
    return final + (initial - final) * (1 - progress) ** 3


def no_clamp(step, initial, final, begin_step, end_step):
    progress = (step - begin_step) / (end_step - begin_step)
    return final + (initial - final) * (1 - progress) ** 3


def linear(step, initial, final, begin_step, end_step):
    progress = min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)
    return initial + (final - initial) * progress


def cube_of_progress(step, initial, final, begin_step, end_step):  # slow first, fast at the end
    progress = min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)
    return initial + (final - initial) * progress ** 3


def percent(*args):
    return 100 * sparsity_solution(*args)


def int4_solution(shape):
    return math.ceil(math.prod(shape) / 2) + 4 * shape[0]


def large_layers_solution():
    return (recipe.dynamic_wi8_afp32() + recipe.dynamic_wi4c_afp32(regex="conv2|conv3")
            + recipe.dynamic_wi4c_afp32(operation_name=FC))


def skips_small_layers():
    config = recipe.dynamic_wi4c_afp32()
    config[0]["op_config"]["min_weight_elements"] = 1000
    return config


CASES = {
    checks.check_sparsity_at: (sparsity_solution, [no_clamp, linear, cube_of_progress, percent,
                                                    lambda *args: "0.8"]),
    checks.check_int4_tensor_bytes: (int4_solution, [
        lambda shape: math.ceil(math.prod(shape) / 2),               # forgets the scales
        lambda shape: math.prod(shape) + 4 * shape[0],               # a byte per weight
        lambda shape: math.prod(shape) // 2 + 4 * shape[0],          # rounds down
        lambda shape: math.ceil(math.prod(shape) / 2) + shape[0],    # 1-byte scales
    ]),
    checks.check_large_layers_int4: (large_layers_solution, [
        lambda: recipe.dynamic_wi4_afp32(),                          # everything int4
        lambda: recipe.dynamic_wi8_afp32(),                          # everything int8
        lambda: recipe.dynamic_wi8_afp32() + recipe.dynamic_wi4c_afp32(regex="conv2|conv3|logits"),
        lambda: recipe.dynamic_wi8_afp32() + recipe.dynamic_wi4c_afp32(regex="conv2")
        + recipe.dynamic_wi4c_afp32(operation_name=FC),                   # forgets conv3
        skips_small_layers,                                          # small layers stay float
        lambda: recipe.static_wi8_ai8(),                             # needs calibration
        lambda: "int4",
    ]),
}


@pytest.mark.parametrize("check", CASES, ids=lambda c: c.__name__)
def test_accepts_the_solution_and_rejects_wrong_answers(check, capsys):
    assert_accepts_solution_rejects_wrong(check, *CASES[check], capsys)


def test_messages_do_not_reveal_the_answers():
    with pytest.raises(AssertionError) as info:
        checks.check_sparsity_at(linear)
    assert str(round(sparsity_solution(550, 0.0, 0.8, 100, 1000), 4))[:5] not in str(info.value)
    with pytest.raises(AssertionError) as info:
        checks.check_int4_tensor_bytes(lambda shape: 7)
    assert str(int4_solution((32, 3, 3, 16))) not in str(info.value)
    with pytest.raises(AssertionError) as info:
        checks.check_large_layers_int4(lambda: recipe.dynamic_wi8_afp32()
                                       + recipe.dynamic_wi4c_afp32(regex="conv2|conv3|logits"))
    assert "FULLY_CONNECTED" not in str(info.value) and "regex=" not in str(info.value)


@pytest.mark.parametrize("check", CASES, ids=lambda c: c.__name__)
def test_not_attempted(check):
    def placeholder(*args):
        raise NotImplementedError()

    for answer in (placeholder, None, ..., lambda *args: None):
        with pytest.raises(checks.NotAttemptedError, match="not attempted"):
            check(answer)
