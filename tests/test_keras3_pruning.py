"""helpers.keras3_pruning: the Keras 3 gradual magnitude-pruning callback (TensorFlow backend)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers import keras3_pruning as k3p
from helpers.keras3_pruning import GradualMagnitudePruning, polynomial_sparsity

# --- the schedule ---------------------------------------------------------------------------


def test_polynomial_sparsity_follows_the_cubic_formula():
    for step in range(0, 1200, 37):
        progress = min(max((step - 100) / 900, 0.0), 1.0)
        want = 0.8 + (0.1 - 0.8) * (1 - progress) ** 3
        assert polynomial_sparsity(step, 0.8, 1000, 0.1, 100) == pytest.approx(want)


def test_polynomial_sparsity_is_clamped_and_monotone():
    values = [polynomial_sparsity(t, 0.9, 500, 0.2, 50, power=2) for t in range(0, 800)]
    assert values[0] == values[50] == 0.2 and values[500] == values[-1] == 0.9
    assert all(b >= a for a, b in zip(values, values[1:], strict=False))
    assert polynomial_sparsity(250, 0.5, 500, power=1) == pytest.approx(0.25)  # linear
    assert polynomial_sparsity(7, 0.5, 7, begin_step=7) == 0.5  # end == begin: at once


@pytest.mark.parametrize("kwargs, error, match", [
    ({"final_sparsity": 1.0}, ValueError, "sparsity must be in"),
    ({"final_sparsity": -0.1}, ValueError, "sparsity must be in"),
    ({"final_sparsity": "0.5"}, TypeError, "sparsity must be a number"),
    ({"initial_sparsity": 0.9}, ValueError, "initial_sparsity"),
    ({"end_step": 5, "begin_step": 10}, ValueError, "end_step must be an int >= 10"),
    ({"step": -1}, ValueError, "step must be an int >= 0"),
    ({"power": 0}, ValueError, "power must be a finite number > 0"),
])
def test_polynomial_sparsity_rejects_bad_arguments(kwargs, error, match):
    arguments = {"step": 3, "final_sparsity": 0.5, "end_step": 100} | kwargs
    with pytest.raises(error, match=match):
        polynomial_sparsity(**arguments)


# --- the callback ---------------------------------------------------------------------------

def small_model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    return keras.Sequential([
        layers.Input((8, 8, 1)),
        layers.Conv2D(6, 3, activation="relu", name="conv"),
        layers.MaxPooling2D(2, name="pool"),
        layers.Flatten(name="flatten"),
        layers.Dense(24, activation="relu", name="hidden"),
        layers.Dense(3, name="out"),
    ])


def fit(model, callbacks, epochs=3, optimizer=None, n=96, batch_size=8):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, size=n)
    model.compile(optimizer or keras.optimizers.Adam(0.02),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=epochs, batch_size=batch_size, callbacks=callbacks, verbose=0)
    return model


def kernel(model, name) -> np.ndarray:
    return keras.ops.convert_to_numpy(model.get_layer(name).kernel)


class Watch(keras.callbacks.Callback):
    """After every step (and after the pruning callback), record what the kernels look like."""

    def __init__(self, pruning: GradualMagnitudePruning):
        super().__init__()
        self.pruning, self.violations, self.zero_counts = pruning, [], []

    def on_train_batch_end(self, batch, logs=None):
        for name, mask in self.pruning.masks.items():
            values = kernel(self.model, name)
            if np.any(values[~mask] != 0):
                self.violations.append((self.pruning.step, name))
        self.zero_counts.append({n: int(np.sum(kernel(self.model, n) == 0))
                                 for n in self.pruning.layer_names})


def test_each_pruned_kernel_reaches_exactly_the_target_sparsity():
    model = small_model()
    pruning = GradualMagnitudePruning(["conv", "hidden"], 0.7, end_step=20, frequency=4)
    fit(model, [pruning])  # 3 epochs x 12 steps = 36 steps > end_step
    for name in ("conv", "hidden"):
        values = kernel(model, name)
        assert len(np.unique(np.abs(values[values != 0]))) == np.count_nonzero(values)
        assert int(np.sum(values == 0)) == round(0.7 * values.size), name
    report = k3p.kernel_sparsity(model)
    assert report["conv"]["zeros"] == round(0.7 * 54) and report["out"]["zeros"] == 0
    assert report["hidden"]["sparsity"] == pytest.approx(round(0.7 * 1296) / 1296)


def test_pruned_weights_stay_zero_between_mask_updates():
    model = small_model()
    pruning = GradualMagnitudePruning(["conv", "hidden", "out"], 0.6, end_step=25,
                                      begin_step=3, frequency=5)
    watch = Watch(pruning)
    fit(model, [pruning, watch], optimizer=keras.optimizers.Adam(0.05))
    assert watch.violations == [], "a pruned weight became nonzero after an optimizer step"
    assert [step for step, _ in pruning.history] == [3, 8, 13, 18, 23, 25]
    # between updates the zero count stays at the last update's target, never drifting down
    assert len(watch.zero_counts) == 36
    for step, counts in enumerate(watch.zero_counts):
        last = max((s for s, _ in pruning.history if s <= step), default=None)
        if last is None:
            assert counts["hidden"] == 0
            continue
        target = round(polynomial_sparsity(last, 0.6, 25, 0.0, 3) * 1296)
        assert counts["hidden"] == target, (step, last)


def test_survivors_and_unpruned_layers_are_untouched():
    """With a zero learning rate, pruning is the only change: the smallest weights go to 0."""
    model = small_model()
    model.build((None, 8, 8, 1))
    before = {layer.name: [keras.ops.convert_to_numpy(w) for w in layer.weights]
              for layer in model.layers}
    pruning = GradualMagnitudePruning(["hidden"], 0.5, end_step=0)
    fit(model, [pruning], epochs=1, optimizer=keras.optimizers.SGD(0.0))
    for layer in model.layers:
        after = [keras.ops.convert_to_numpy(w) for w in layer.weights]
        if layer.name != "hidden":
            assert all(np.array_equal(a, b) for a, b in zip(after, before[layer.name],
                                                            strict=True)), layer.name
    old, new = before["hidden"][0], kernel(model, "hidden")
    kept = new != 0
    assert np.array_equal(new[kept], old[kept])
    assert np.abs(old[~kept]).max() <= np.abs(old[kept]).min()
    assert np.array_equal(keras.ops.convert_to_numpy(model.get_layer("hidden").bias),
                          before["hidden"][1]), "biases are not pruned"


def test_per_layer_targets_and_a_global_threshold():
    model = small_model()
    fit(model, [GradualMagnitudePruning(["conv", "hidden"], {"conv": 0.3, "hidden": 0.9},
                                        end_step=10)])
    assert np.sum(kernel(model, "conv") == 0) == round(0.3 * 54)
    assert np.sum(kernel(model, "hidden") == 0) == round(0.9 * 1296)
    model = small_model()
    fit(model, [GradualMagnitudePruning(["conv", "hidden"], 0.8, end_step=10, scope="global")])
    conv, hidden = kernel(model, "conv"), kernel(model, "hidden")
    assert np.sum(conv == 0) + np.sum(hidden == 0) == round(0.8 * (54 + 1296))
    assert np.sum(conv == 0) != round(0.8 * 54), "one global threshold: per-layer counts differ"
    survivors = np.abs(np.concatenate([conv[conv != 0], hidden[hidden != 0]]))
    assert survivors.min() > 0


def test_the_model_carries_no_masks_so_there_is_nothing_to_strip():
    model, twin = small_model(), small_model()
    fit(model, [GradualMagnitudePruning(["hidden"], 0.5, end_step=5)], epochs=1)
    fit(twin, [], epochs=1)
    def variables(m):
        return [(w.path.split("/", 1)[1], tuple(w.shape)) for w in m.weights]

    assert variables(model) == variables(twin) and len(model.weights) == 6
    assert type(model.get_layer("hidden")) is keras.layers.Dense


def test_the_step_count_continues_across_fit_calls():
    model = small_model()
    pruning = GradualMagnitudePruning(["hidden"], 0.5, end_step=20, frequency=10)
    fit(model, [pruning], epochs=1)  # 12 steps: sparsity not final yet
    assert pruning.step == 12 and np.sum(kernel(model, "hidden") == 0) < round(0.5 * 1296)
    fit(model, [pruning], epochs=1)
    assert pruning.step == 24 and np.sum(kernel(model, "hidden") == 0) == round(0.5 * 1296)


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("args, kwargs, error, match", [
    ((["hidden"], 1.0, 10), {}, ValueError, r"sparsity must be in \[0, 1\)"),
    ((["hidden"], -0.2, 10), {}, ValueError, r"sparsity must be in \[0, 1\)"),
    ((["hidden"], "80%", 10), {}, TypeError, "sparsity must be a number"),
    (("hidden", 0.5, 10), {}, TypeError, "layer_names must be a non-empty list"),
    (([], 0.5, 10), {}, TypeError, "layer_names must be a non-empty list"),
    ((["hidden", "hidden"], 0.5, 10), {}, ValueError, "must not repeat"),
    ((["hidden"], 0.5, 10), {"begin_step": 20}, ValueError, "end_step must be an int >= 20"),
    ((["hidden"], 0.5, 10), {"frequency": 0}, ValueError, "frequency must be a positive int"),
    ((["hidden"], 0.5, 10), {"scope": "model"}, ValueError, "scope must be one of"),
    ((["hidden"], 0.5, 10), {"initial_sparsity": 0.6}, ValueError, "initial_sparsity"),
    ((["hidden", "out"], {"hidden": 0.5}, 10), {}, ValueError, "exactly the layers"),
    ((["hidden", "out"], {"hidden": 0.5, "out": 0.2}, 10), {"scope": "global"}, ValueError,
     "one number"),
])
def test_bad_arguments_raise_clear_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        GradualMagnitudePruning(*args, **kwargs)


def test_an_unknown_layer_name_fails_before_training():
    with pytest.raises(ValueError, match=r"no layer named 'dense_7'; its layers are \['conv'"):
        fit(small_model(), [GradualMagnitudePruning(["dense_7"], 0.5, end_step=5)], epochs=1)


@pytest.mark.parametrize("name", ["flatten", "pool"])
def test_a_layer_without_a_kernel_is_rejected(name):
    with pytest.raises(ValueError, match=f"layer '{name}' .* has no kernel to prune"):
        fit(small_model(), [GradualMagnitudePruning([name], 0.5, end_step=5)], epochs=1)


def test_a_tf_keras_model_is_rejected():
    from helpers import keras as tf_keras

    legacy = tf_keras.Sequential([tf_keras.layers.Dense(2, input_shape=(3,), name="d")])
    with pytest.raises(TypeError, match="prunes Keras 3 models"):
        GradualMagnitudePruning(["d"], 0.5, end_step=5).set_model(legacy)


def test_steps_per_execution_must_be_one():
    model = small_model()
    model.compile("adam", "mse", steps_per_execution=4)
    pruning = GradualMagnitudePruning(["hidden"], 0.5, end_step=5)
    x = np.zeros((16, 8, 8, 1), "float32")
    with pytest.raises(ValueError, match="steps_per_execution=1"):
        model.fit(x, np.zeros((16, 3)), epochs=1, batch_size=8, callbacks=[pruning], verbose=0)


def test_kernel_sparsity_validates_its_arguments():
    with pytest.raises(TypeError, match="Keras 3 model"):
        k3p.kernel_sparsity(object())
    model = small_model()
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        k3p.kernel_sparsity(model, ["nope"])


# --- no legacy Keras on the Keras 3 path ----------------------------------------------------

# Refuses to load tf_keras (finding it still works: TensorFlow asks where it is), then runs
# notebook 06's path with the course's helpers: prune, export, quantize, read back.
_KERAS3_PATH_WITHOUT_TF_KERAS = """
import importlib.abc, importlib.machinery, json, sys, tempfile
from pathlib import Path

class Refuse(importlib.abc.Loader):
    def create_module(self, spec):
        raise ModuleNotFoundError(f"{spec.name} is refused in this test")

    def exec_module(self, module):
        raise AssertionError("unreachable")

class RefuseTfKeras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] != "tf_keras":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None:
            spec.loader = Refuse()
        return spec

sys.meta_path.insert(0, RefuseTfKeras())
import helpers
from helpers import keras3_pruning, litert_quantizer, metrics, tflite_anatomy, training
import keras
import numpy as np
from ai_edge_quantizer import recipe

keras.utils.set_random_seed(0)
model = keras.Sequential([keras.layers.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="conv"),
                          keras.layers.Flatten(), keras.layers.Dense(3, name="out")])
model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
x = training.as_float(np.random.default_rng(0).integers(0, 256, (32, 8, 8, 1), dtype=np.uint8))
pruning = keras3_pruning.GradualMagnitudePruning(["conv", "out"], 0.5, end_step=4, frequency=1)
model.fit(x, np.arange(32) % 3, epochs=2, batch_size=8, verbose=0, callbacks=[pruning])
path = litert_quantizer.export_litert(model, Path(tempfile.mkdtemp()) / "m.tflite")
quantized = litert_quantizer.quantize(path, recipe.dynamic_wi8_afp32())
kernels = [row["zeros"] for row in litert_quantizer.weight_tensors(quantized)
           if row["part"] == "weights"]
print(json.dumps({"zeros": kernels, "gzipped": metrics.gzipped_size(quantized),
                  "weights": tflite_anatomy.tensor_bytes(quantized)["weights"],
                  "loaded": sorted(m for m in sys.modules
                                   if m.split(".")[0] == "tf_keras" or m == "helpers.pruning")}))
"""


def test_the_keras3_path_runs_with_tf_keras_refused():
    """Notebook 06's helpers (keras3_pruning, litert_quantizer, tflite_anatomy, metrics,
    training) load no tf_keras: they prune, export, quantize and read back with it refused.

    A plain `'tf_keras' not in sys.modules` after `import keras` cannot hold in the course's
    setting: with TF_USE_LEGACY_KERAS=1 (set by `import helpers`, for TFMOT), TensorFlow 2.21's
    own `__init__` imports `tf_keras.src.optimizers`, and Keras 3's TensorFlow backend imports
    TensorFlow. So the test refuses tf_keras, which TensorFlow tolerates and our code must."""
    import json
    import subprocess
    import sys

    import helpers

    done = subprocess.run([sys.executable, "-c", _KERAS3_PATH_WITHOUT_TF_KERAS],
                          capture_output=True, text=True, timeout=600, cwd=helpers.ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["loaded"] == []
    assert report["zeros"] and all(z >= 0.5 for z in report["zeros"]), report
    assert report["weights"] == 4 * 9 + 3 * 144 and report["gzipped"] > 0


@pytest.mark.parametrize("setting", ["0", "false"])
def test_a_keras3_only_process_opts_out_of_legacy_keras_and_loads_no_tf_keras(setting):
    """With TF_USE_LEGACY_KERAS=0 set before `import helpers`, the Keras 3 helpers, Keras 3 and
    TensorFlow load no tf_keras at all, a pruned Keras 3 model still trains, and helpers.keras
    refuses with the reason instead of silently mixing the two Keras."""
    import os
    import subprocess
    import sys
    import textwrap

    import helpers

    code = textwrap.dedent("""
        import sys
        import helpers, helpers.keras3_pruning, helpers.litert_quantizer, helpers.tflite_anatomy
        import keras, numpy as np, tensorflow
        assert not helpers.LEGACY_KERAS
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, name="d")])
        model.compile("sgd", "mse")
        pruner = helpers.keras3_pruning.GradualMagnitudePruning(["d"], 0.5, end_step=2, frequency=1)
        model.fit(np.ones((8, 4)), np.ones((8, 8)), epochs=1, batch_size=2, verbose=0, callbacks=[pruner])
        assert float(np.mean(model.get_layer("d").kernel.numpy() == 0)) == 0.5
        try:
            helpers.keras
        except RuntimeError as error:
            assert "TF_USE_LEGACY_KERAS=0" in str(error)
        else:
            raise AssertionError("helpers.keras did not refuse")
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "tf_keras")
        assert not loaded, loaded[:5]
        print("ok")
    """)
    env = {**os.environ, "TF_USE_LEGACY_KERAS": setting}
    done = subprocess.run([sys.executable, "-c", code], cwd=helpers.ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def test_exercise_6_1s_reference_is_what_the_callback_removes_at_each_update():
    """The check of Exercise 6.1 (removed_per_update) counts what the callback really zeroes."""
    from helpers.checks.beyond_tfmot import _removed_per_update

    model = small_model()
    pruning = GradualMagnitudePruning(["hidden"], 0.6, end_step=25, begin_step=3, frequency=5)
    watch = Watch(pruning)
    fit(model, [pruning, watch], optimizer=keras.optimizers.Adam(0.05))
    zeros_after = [watch.zero_counts[step]["hidden"] for step, _ in pruning.history]
    removed = [zeros_after[0]] + [b - a for a, b in zip(zeros_after, zeros_after[1:], strict=False)]
    assert removed == _removed_per_update(1296, 0.6, 3, 25, 5)
    assert len(removed) == 6 and removed[1] == max(removed)  # front-loaded
