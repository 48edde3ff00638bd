"""Known-wrong answers for notebook 06's exercise checks (the solutions come from the notebook)."""

from __future__ import annotations

import math

from exercise_cases import Case


def namespace() -> dict:
    """The names notebook 06's exercise cells use."""
    from ai_edge_quantizer import qtyping, recipe

    return {"math": math, "recipe": recipe, "qtyping": qtyping}


def _progress(step, begin_step, end_step):
    return min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)


# --- 6.1 sparsity_at
def _no_clamp(step, initial, final, begin_step, end_step):
    progress = (step - begin_step) / (end_step - begin_step)
    return final + (initial - final) * (1 - progress) ** 3


def _linear(step, initial, final, begin_step, end_step):
    return initial + (final - initial) * _progress(step, begin_step, end_step)


def _cube_of_progress(step, initial, final, begin_step, end_step):  # slow first, fast at the end
    return initial + (final - initial) * _progress(step, begin_step, end_step) ** 3


def _percent(step, initial, final, begin_step, end_step):
    return 100 * (final + (initial - final) * (1 - _progress(step, begin_step, end_step)) ** 3)


# --- 6.2 int4_tensor_bytes
def _forgets_the_scales(shape):
    return math.ceil(math.prod(shape) / 2)


def _a_byte_per_weight(shape):
    return math.prod(shape) + 4 * shape[0]


def _rounds_down(shape):
    return math.prod(shape) // 2 + 4 * shape[0]


def _one_byte_scales(shape):
    return math.ceil(math.prod(shape) / 2) + shape[0]


# --- 6.3 large_layers_int4
def _everything_int4():
    from ai_edge_quantizer import recipe
    return recipe.dynamic_wi4_afp32()


def _everything_int8():
    from ai_edge_quantizer import recipe
    return recipe.dynamic_wi8_afp32()


def _logits_by_name():  # the last layer's output is renamed after the model's output
    from ai_edge_quantizer import recipe
    return recipe.dynamic_wi8_afp32() + recipe.dynamic_wi4c_afp32(regex="conv2|conv3|logits")


def _forgets_conv3():
    from ai_edge_quantizer import qtyping, recipe
    return (recipe.dynamic_wi8_afp32() + recipe.dynamic_wi4c_afp32(regex="conv2")
            + recipe.dynamic_wi4c_afp32(operation_name=qtyping.TFLOperationName.FULLY_CONNECTED))


def _small_layers_stay_float():
    from ai_edge_quantizer import recipe
    config = recipe.dynamic_wi4c_afp32()
    config[0]["op_config"]["min_weight_elements"] = 1000
    return config


def _needs_calibration():
    from ai_edge_quantizer import recipe
    return recipe.static_wi8_ai8()


CASES = {
    "check_sparsity_at": Case(wrong=[_no_clamp, _linear, _cube_of_progress, _percent,
                                     lambda *args: "0.8"]),
    "check_int4_tensor_bytes": Case(wrong=[_forgets_the_scales, _a_byte_per_weight, _rounds_down,
                                           _one_byte_scales]),
    "check_large_layers_int4": Case(wrong=[_everything_int4, _everything_int8, _logits_by_name,
                                           _forgets_conv3, _small_layers_stay_float,
                                           _needs_calibration, lambda: "int4"]),
}
