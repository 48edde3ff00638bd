"""Known-wrong answers for notebook 06's exercise checks (the solutions come from the notebook)."""

from __future__ import annotations

import math

from exercise_cases import Case


def namespace() -> dict:
    """The names notebook 06's exercise cells use."""
    from ai_edge_quantizer import qtyping, recipe

    from helpers import keras3_pruning, pruning

    return {"math": math, "recipe": recipe, "qtyping": qtyping, "keras3_pruning": keras3_pruning,
            "pruning": pruning}


# --- 6.1 removed_per_update
def _cubic(step, final, begin_step, end_step):
    from helpers import keras3_pruning
    return keras3_pruning.polynomial_sparsity(step, final, end_step, 0.0, begin_step)


def _steps(begin_step, end_step, frequency):
    return [t for t in range(begin_step, end_step + 1)
            if (t - begin_step) % frequency == 0 or t == end_step]


def _differences(zeros):
    return [zeros[0]] + [b - a for a, b in zip(zeros, zeros[1:], strict=False)]


def _running_totals(size, final_sparsity, begin_step, end_step, frequency):
    return [round(size * _cubic(t, final_sparsity, begin_step, end_step))
            for t in _steps(begin_step, end_step, frequency)]


def _no_update_at_end_step(size, final_sparsity, begin_step, end_step, frequency):
    steps = range(begin_step, end_step + 1, frequency)
    return _differences([round(size * _cubic(t, final_sparsity, begin_step, end_step)) for t in steps])


def _rounds_each_update(size, final_sparsity, begin_step, end_step, frequency):
    levels = [_cubic(t, final_sparsity, begin_step, end_step) for t in _steps(begin_step, end_step, frequency)]
    return [round(size * levels[0])] + [round(size * (b - a)) for a, b in zip(levels, levels[1:], strict=False)]


def _truncates(size, final_sparsity, begin_step, end_step, frequency):
    return _differences([int(size * _cubic(t, final_sparsity, begin_step, end_step))
                         for t in _steps(begin_step, end_step, frequency)])


def _linear_schedule(size, final_sparsity, begin_step, end_step, frequency):
    def linear(t):
        return final_sparsity * min(max((t - begin_step) / max(end_step - begin_step, 1), 0.0), 1.0)
    return _differences([round(size * linear(t)) for t in _steps(begin_step, end_step, frequency)])


def _fractions(size, final_sparsity, begin_step, end_step, frequency):
    return _differences([size * _cubic(t, final_sparsity, begin_step, end_step)
                         for t in _steps(begin_step, end_step, frequency)])


def _skips_the_first_update(size, final_sparsity, begin_step, end_step, frequency):
    return _differences(_running_totals(size, final_sparsity, begin_step, end_step, frequency))[1:]


# --- 6.2 int4_file_bytes
def _what_the_maths_needs(shape):
    return math.ceil(math.prod(shape) / 2) + 4 * shape[0]


def _forgets_the_parameters(shape):
    return math.ceil(math.prod(shape) / 2)


def _a_byte_per_weight(shape):
    return math.prod(shape) + 12 * shape[0]


def _rounds_down(shape):
    return math.prod(shape) // 2 + 12 * shape[0]


def _int32_zero_points(shape):
    return math.ceil(math.prod(shape) / 2) + 8 * shape[0]


def _one_zero_point_per_tensor(shape):
    return math.ceil(math.prod(shape) / 2) + 4 * shape[0] + 8


# --- 6.3 int4_except
def _ignores_the_layers(keep_int8):
    from ai_edge_quantizer import recipe
    return recipe.dynamic_wi4_afp32()


def _everything_int8(keep_int8):
    from ai_edge_quantizer import recipe
    return recipe.dynamic_wi8_afp32()


def _logits_by_name(keep_int8):  # the last layer's output is renamed after the model's output
    from ai_edge_quantizer import recipe
    rules = recipe.dynamic_wi4_afp32()
    for name in keep_int8:
        rules += recipe.dynamic_wi8c_afp32(regex=name)
    return rules


def _one_empty_regex(keep_int8):  # "" matches every name: [] keeps everything int8
    from ai_edge_quantizer import qtyping, recipe
    rules = recipe.dynamic_wi4_afp32()
    convs = [name for name in keep_int8 if name != "logits"]
    rules += recipe.dynamic_wi8c_afp32(regex="|".join(convs))
    if "logits" in keep_int8:
        rules += recipe.dynamic_wi8c_afp32(operation_name=qtyping.TFLOperationName.FULLY_CONNECTED)
    return rules


def _int4_rule_last(keep_int8):  # later rules override earlier ones
    from ai_edge_quantizer import qtyping, recipe
    rules = []
    for name in keep_int8:
        rules += (recipe.dynamic_wi8c_afp32(operation_name=qtyping.TFLOperationName.FULLY_CONNECTED)
                  if name == "logits" else recipe.dynamic_wi8c_afp32(regex=name))
    return rules + recipe.dynamic_wi4_afp32()


def _small_layers_stay_float(keep_int8):
    from ai_edge_quantizer import recipe
    rules = recipe.dynamic_wi4c_afp32()
    rules[0]["op_config"]["min_weight_elements"] = 1000
    return rules


def _needs_calibration(keep_int8):
    from ai_edge_quantizer import recipe
    return recipe.static_wi8_ai8()


CASES = {
    "check_removed_per_update": Case(wrong=[
        _running_totals, _no_update_at_end_step, _rounds_each_update, _truncates, _linear_schedule,
        _fractions, _skips_the_first_update, lambda *args: [0.7]]),
    "check_int4_file_bytes": Case(wrong=[_what_the_maths_needs, _forgets_the_parameters, _a_byte_per_weight,
                                         _rounds_down, _int32_zero_points, _one_zero_point_per_tensor]),
    "check_int4_except": Case(wrong=[_ignores_the_layers, _everything_int8, _logits_by_name, _one_empty_regex,
                                     _int4_rule_last, _small_layers_stay_float, _needs_calibration,
                                     lambda keep_int8: "int4"]),
}
