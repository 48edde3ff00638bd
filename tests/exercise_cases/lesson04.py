"""Known-wrong answers for notebook 04's exercise checks (the solutions come from the notebook)."""

import numpy as np

from exercise_cases import Case


def namespace() -> dict:
    import tensorflow_model_optimization as tfmot

    from helpers import keras

    return {"keras": keras, "tfmot": tfmot}


# --- Exercise 4.1: first_pruning_step ---------------------------------------------------------

def _sparsity(step, initial_sparsity, final_sparsity, begin_step, end_step, power):
    p = min(1.0, max(0.0, (step - begin_step) / (end_step - begin_step)))
    return final_sparsity + (initial_sparsity - final_sparsity) * (1 - p) ** power


def _ignores_the_frequency(target, initial_sparsity, final_sparsity, begin_step, end_step, power,
                           frequency):  # the first step of the continuous curve
    for step in range(begin_step, end_step + 1):
        if _sparsity(step, initial_sparsity, final_sparsity, begin_step, end_step, power) >= target:
            return step
    return None


def _multiples_of_the_frequency(target, initial_sparsity, final_sparsity, begin_step, end_step,
                                power, frequency):  # counts update steps from 0, not begin_step
    for step in range(0, end_step + 1, frequency):
        if step >= begin_step and _sparsity(step, initial_sparsity, final_sparsity, begin_step,
                                            end_step, power) >= target:
            return step
    return None


def _always_ends_at_end_step(target, initial_sparsity, final_sparsity, begin_step, end_step, power,
                             frequency):  # believes the mask is updated at end_step too
    steps = [*range(begin_step, end_step + 1, frequency), end_step]
    for step in steps:
        if _sparsity(step, initial_sparsity, final_sparsity, begin_step, end_step, power) >= target:
            return step
    return None


def _linear_ramp(target, initial_sparsity, final_sparsity, begin_step, end_step, power, frequency):
    for step in range(begin_step, end_step + 1, frequency):
        if _sparsity(step, initial_sparsity, final_sparsity, begin_step, end_step, 1) >= target:
            return step
    return None


def _curve_upside_down(target, initial_sparsity, final_sparsity, begin_step, end_step, power,
                       frequency):  # slow start, fast end: p ** power instead of 1 - (1 - p) ** power
    for step in range(begin_step, end_step + 1, frequency):
        p = (step - begin_step) / (end_step - begin_step)
        if initial_sparsity + (final_sparsity - initial_sparsity) * p ** power >= target:
            return step
    return None


def _counts_updates_not_steps(target, initial_sparsity, final_sparsity, begin_step, end_step, power,
                              frequency):
    for k, step in enumerate(range(begin_step, end_step + 1, frequency)):
        if _sparsity(step, initial_sparsity, final_sparsity, begin_step, end_step, power) >= target:
            return k
    return None


# --- Exercise 4.2: make_pqat_model -----------------------------------------------------------

def _plain_qat(model):  # quantize_model: every weight trains, the zeros go
    import tensorflow_model_optimization as tfmot

    return tfmot.quantization.keras.quantize_model(model)


def _returns_the_model(model):
    return model


def _annotates_only(model):  # never applies the quantization
    import tensorflow_model_optimization as tfmot

    return tfmot.quantization.keras.quantize_annotate_model(model)


def _applies_the_default_scheme(model):  # annotate + apply, but not the prune-preserving scheme
    import tensorflow_model_optimization as tfmot

    q = tfmot.quantization.keras
    return q.quantize_apply(q.quantize_annotate_model(model))


def _freezes_the_default_scheme(model):  # keeps the zeros by never training anything
    import tensorflow_model_optimization as tfmot

    q = tfmot.quantization.keras
    qat = q.quantize_apply(q.quantize_annotate_model(model))
    for layer in qat.layers:
        layer.trainable = False
    return qat


# --- Exercise 4.3: predict_int8_bytes --------------------------------------------------------

def _layers(model):
    """(kernel entries, output channels, has a bias of its own) per Conv2D and Dense layer."""
    from helpers import keras

    return [(int(np.prod(layer.kernel.shape)), int(layer.kernel.shape[-1]), layer.use_bias)
            for layer in model.layers
            if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)]


def _forgets_the_biases(model):
    layers = _layers(model)
    return {"weights": sum(n for n, _, _ in layers), "biases": 0,
            "quantization": sum(12 * c for _, c, _ in layers)}


def _float32_kernels(model):
    layers = _layers(model)
    return {"weights": sum(4 * n for n, _, _ in layers), "biases": sum(4 * c for _, c, _ in layers),
            "quantization": sum(24 * c for _, c, _ in layers)}


def _forgets_the_scales(model):
    layers = _layers(model)
    return {"weights": sum(n for n, _, _ in layers), "biases": sum(4 * c for _, c, _ in layers),
            "quantization": 0}


def _bias_only_where_the_layer_has_one(model):  # forgets that batch norm folds into a bias
    layers = _layers(model)
    return {"weights": sum(n for n, _, _ in layers),
            "biases": sum(4 * c for _, c, own in layers if own),
            "quantization": sum((24 if own else 12) * c for _, c, own in layers)}


def _one_scale_per_tensor(model):
    layers = _layers(model)
    return {"weights": sum(n for n, _, _ in layers), "biases": sum(4 * c for _, c, _ in layers),
            "quantization": 24 * len(layers)}


def _int32_zero_points(model):
    layers = _layers(model)
    return {"weights": sum(n for n, _, _ in layers), "biases": sum(4 * c for _, c, _ in layers),
            "quantization": sum(16 * c for _, c, _ in layers)}


def _counts_every_parameter(model):  # batch norm's parameters and the biases as int8 weights
    layers = _layers(model)
    return {"weights": model.count_params(), "biases": sum(4 * c for _, c, _ in layers),
            "quantization": sum(24 * c for _, c, _ in layers)}


def _a_total_not_a_dict(model):
    layers = _layers(model)
    return sum(n + 28 * c for n, c, _ in layers)


CASES = {
    "check_first_pruning_step": Case(wrong=[_ignores_the_frequency, _multiples_of_the_frequency,
                                            _always_ends_at_end_step, _linear_ramp,
                                            _curve_upside_down, _counts_updates_not_steps]),
    "check_pqat_model": Case(wrong=[_plain_qat, _returns_the_model, _annotates_only,
                                    _applies_the_default_scheme, _freezes_the_default_scheme]),
    "check_int8_bytes": Case(wrong=[_forgets_the_biases, _float32_kernels, _forgets_the_scales,
                                    _bias_only_where_the_layer_has_one, _one_scale_per_tensor,
                                    _int32_zero_points, _counts_every_parameter,
                                    _a_total_not_a_dict]),
}
