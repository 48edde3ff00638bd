"""Gradual magnitude pruning for Keras 3 (no TFMOT): a mask callback with a polynomial schedule.

TFMOT only works with legacy Keras (`tf_keras`). This module prunes a *Keras 3* model (what
`import keras` gives) with the same idea as TFMOT's `prune_low_magnitude` + `PolynomialDecay`,
but as a plain callback: every `frequency` optimizer steps it recomputes a keep-mask per kernel
with `helpers.masks`' exact magnitude selection (NumPy only, no tf_keras), and after every step
it multiplies the kernels by their masks, so pruned weights stay zero. The masks live in the
callback, never in the model, so there are no wrapper layers or mask variables to strip before
export.

It uses only the Keras 3 API (`keras.ops`, variables' `assign`), so it is not tied to one
backend; it is tested on the TensorFlow backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import numpy as np

from helpers._validate import integer, number
from helpers.masks import global_magnitude_masks, magnitude_mask, validate_sparsity

SCOPES = ("layer", "global")


def _validate_power(power) -> float:
    """Return the schedule's exponent as a float, or raise if it is not a number > 0."""
    return number("power", power, low=0, low_open=True, hint="3 is Zhu & Gupta's cubic")


def polynomial_sparsity(step: int, final_sparsity: float, end_step: int,
                        initial_sparsity: float = 0.0, begin_step: int = 0,
                        power: float = 3) -> float:
    """Target sparsity at optimizer `step`: s_f + (s_i - s_f) * (1 - p)^power.

    p = (step - begin_step) / (end_step - begin_step), clipped to [0, 1]: the sparsity is
    `initial_sparsity` up to `begin_step` and `final_sparsity` from `end_step` on (Zhu & Gupta,
    2017; the formula of TFMOT's `PolynomialDecay`). `end_step == begin_step` prunes at once.

    Taught in notebook 06, §2 (Exercise 6.1).
    """
    step = integer("step", step, low=0)
    final_sparsity = validate_sparsity(final_sparsity)
    initial_sparsity = validate_sparsity(initial_sparsity)
    if initial_sparsity > final_sparsity:
        raise ValueError(f"initial_sparsity must be <= final_sparsity={final_sparsity}, "
                         f"got {initial_sparsity!r}")
    begin_step = integer("begin_step", begin_step, low=0)
    end_step = integer("end_step", end_step, low=begin_step)
    power = _validate_power(power)
    if step >= end_step:
        return final_sparsity
    if step <= begin_step:
        return initial_sparsity
    progress = (step - begin_step) / (end_step - begin_step)
    return final_sparsity + (initial_sparsity - final_sparsity) * (1.0 - progress) ** power


def kernel_variable(layer: keras.layers.Layer) -> keras.Variable:
    """The kernel variable of a Keras 3 layer (Dense, Conv...), or a ValueError saying why not."""
    if not isinstance(layer, keras.layers.Layer):
        raise TypeError(f"layer must be a Keras 3 layer, got {type(layer).__name__}")
    if getattr(layer, "quantization_mode", None) or getattr(layer, "lora_enabled", False):
        raise ValueError(f"layer {layer.name!r} is quantized or uses LoRA; prune the float "
                         "layer before quantizing or adding adapters")
    kernels = [w for w in layer.trainable_weights if w.name == "kernel"]
    if len(kernels) != 1:
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) has no kernel to prune; "
                         "prunable layers are those with one `kernel` weight (Dense, Conv1D/2D/3D, "
                         "...), not Flatten, pooling, BatchNormalization or Embedding")
    return kernels[0]


def kernel_sparsity(model: keras.Model,
                    layer_names: Sequence[str] | None = None) -> dict[str, dict]:
    """Zeros, size and sparsity of the kernel of each named layer (default: every kernel)."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a Keras 3 model, got {type(model).__name__}")
    if layer_names is None:
        layer_names = [layer.name for layer in model.layers
                       if any(w.name == "kernel" for w in layer.trainable_weights)]
    report = {}
    for name in layer_names:
        values = keras.ops.convert_to_numpy(kernel_variable(_get_layer(model, name)))
        zeros = int(values.size - np.count_nonzero(values))
        report[name] = {"zeros": zeros, "size": int(values.size),
                        "sparsity": zeros / values.size}
    return report


def _get_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """The layer called `name`, or a ValueError that lists the model's layers."""
    names = [layer.name for layer in model.layers]
    if name not in names:
        raise ValueError(f"layer_names: the model has no layer named {name!r}; its layers are "
                         f"{names}")
    return model.get_layer(name)


class GradualMagnitudePruning(keras.callbacks.Callback):
    """Keras 3 callback: prune the kernels of `layer_names` gradually to `final_sparsity`.

    Taught in notebook 06, §2.

    The sparsity follows `polynomial_sparsity` over optimizer steps counted by this callback
    (across several `fit` calls). Masks are recomputed at `begin_step`, every `frequency` steps
    after it, and always at `end_step` (so the final sparsity is reached exactly), with
    `helpers.masks`' magnitude selection: per layer (`scope="layer"`: exactly
    round(s·size) zeros in each kernel) or with one threshold for all (`scope="global"`).
    After every step the kernels are multiplied by their masks, so pruned weights stay zero.
    `final_sparsity` is one number, or {layer name: sparsity} with `scope="layer"`.
    """

    def __init__(self, layer_names: Sequence[str], final_sparsity: float | Mapping[str, float],
                 end_step: int, *, begin_step: int = 0, initial_sparsity: float = 0.0,
                 frequency: int = 100, power: float = 3, scope: str = "layer"):
        super().__init__()
        if isinstance(layer_names, str) or not isinstance(layer_names, Sequence) \
                or not layer_names or not all(isinstance(n, str) for n in layer_names):
            raise TypeError(f"layer_names must be a non-empty list of layer names (str), "
                            f"got {layer_names!r}")
        if len(set(layer_names)) != len(layer_names):
            raise ValueError(f"layer_names must not repeat a name, got {list(layer_names)}")
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
        if isinstance(final_sparsity, Mapping):
            if scope == "global":
                raise ValueError("scope='global' uses one threshold for all layers, so "
                                 "final_sparsity must be one number, not a dict")
            if set(final_sparsity) != set(layer_names):
                raise ValueError(f"final_sparsity must give a sparsity for exactly the layers in "
                                 f"layer_names {sorted(layer_names)}, got keys "
                                 f"{sorted(final_sparsity)}")
            finals = {name: validate_sparsity(final_sparsity[name]) for name in layer_names}
        else:
            finals = dict.fromkeys(layer_names, validate_sparsity(final_sparsity))
        self.initial_sparsity = validate_sparsity(initial_sparsity)
        for name, final in finals.items():
            if self.initial_sparsity > final:
                raise ValueError(f"initial_sparsity={initial_sparsity!r} is above the final "
                                 f"sparsity {final} of layer {name!r}")
        self.layer_names = list(layer_names)
        self.final_sparsity = finals
        self.begin_step = integer("begin_step", begin_step, low=0)
        self.end_step = integer("end_step", end_step, low=self.begin_step)
        self.frequency = integer("frequency", frequency, low=1)
        self.power = _validate_power(power)
        self.scope = scope
        self.step = 0  # optimizer steps seen so far
        self.masks: dict[str, np.ndarray] = {}  # layer name -> boolean keep-mask
        self._kernels: dict = {}
        self._mask_tensors: dict = {}
        self.history: list[tuple[int, float]] = []  # (step, mean target sparsity) per update

    # --- schedule ------------------------------------------------------------------------
    def target_sparsity(self, name: str, step: int | None = None) -> float:
        """The schedule's sparsity for layer `name` at `step` (default: the current step)."""
        return polynomial_sparsity(self.step if step is None else step,
                                   self.final_sparsity[name], self.end_step,
                                   self.initial_sparsity, self.begin_step, self.power)

    def is_update_step(self, step: int) -> bool:
        """True if the masks are recomputed at `step` (begin, every `frequency`, and end)."""
        in_range = self.begin_step <= step <= self.end_step
        return in_range and ((step - self.begin_step) % self.frequency == 0
                             or step == self.end_step)

    # --- Keras hooks ---------------------------------------------------------------------
    def set_model(self, model):
        """Check the layers when `fit` attaches the callback, so mistakes fail before training."""
        if not isinstance(model, keras.Model):
            raise TypeError(f"GradualMagnitudePruning prunes Keras 3 models (`import keras`); got "
                            f"{type(model).__module__}.{type(model).__name__} (a tf_keras model? "
                            "use TFMOT for those)")
        self._kernels = {name: kernel_variable(_get_layer(model, name))
                         for name in self.layer_names}
        super().set_model(model)

    def on_train_begin(self, logs=None):
        if getattr(self.model, "steps_per_execution", 1) != 1:
            raise ValueError("compile the model with steps_per_execution=1: the callback must "
                             "see every optimizer step, got steps_per_execution="
                             f"{self.model.steps_per_execution}")

    def on_train_batch_begin(self, batch, logs=None):
        if self.is_update_step(self.step):
            self._sync_backend_state()
            self.update_masks()

    def on_train_batch_end(self, batch, logs=None):
        if self.masks:
            self._sync_backend_state()
            self.apply_masks()
        self.step += 1

    def on_train_end(self, logs=None):
        if self.masks:
            self._sync_backend_state()
            self.apply_masks()

    # --- the work ------------------------------------------------------------------------
    def update_masks(self) -> None:
        """Recompute the keep-masks from the current kernel magnitudes, then apply them."""
        if not self._kernels:
            raise RuntimeError("attach the callback to a model first (model.fit(..., "
                               "callbacks=[...]) does it, or call set_model(model))")
        values = {name: keras.ops.convert_to_numpy(kernel)
                  for name, kernel in self._kernels.items()}
        if self.scope == "global":
            target = self.target_sparsity(self.layer_names[0])
            masks = global_magnitude_masks([values[n] for n in self.layer_names], target)
            self.masks = dict(zip(self.layer_names, masks, strict=True))
        else:
            self.masks = {name: magnitude_mask(values[name], self.target_sparsity(name))
                          for name in self.layer_names}
        self._mask_tensors = {
            name: keras.ops.convert_to_tensor(mask.astype(self._kernels[name].dtype))
            for name, mask in self.masks.items()}
        self.history.append((self.step, float(np.mean(
            [self.target_sparsity(n) for n in self.layer_names]))))
        self.apply_masks()

    def apply_masks(self) -> None:
        """Multiply every pruned kernel by its mask (zeros stay zero after an optimizer step)."""
        for name, kernel in self._kernels.items():
            kernel.assign(keras.ops.multiply(kernel.value, self._mask_tensors[name]))

    def _sync_backend_state(self) -> None:
        """Write JAX's training state back into the variables (nothing to do elsewhere)."""
        # JAX keeps the training state outside the variables during `fit`; write it back before
        # reading or assigning kernels (a no-op on TensorFlow and PyTorch, which lack the method).
        sync = getattr(self.model, "jax_state_sync", None)
        if sync is not None:
            sync()
