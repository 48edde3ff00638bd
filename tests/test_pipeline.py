"""helpers.pipeline: pruning wrappers where asked, a schedule that reaches its sparsity, QAT that
keeps the zeros, and stage records that match the files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from helpers import keras, pipeline


def tiny_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.layers.Reshape((8, 8, 1), input_shape=(8, 8), name="reshape"),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(10, name="logits"),
    ])


def data(n=96):
    rng = np.random.default_rng(0)
    return rng.random((n, 8, 8)).astype(np.float32), rng.integers(0, 10, n)


def test_steps_per_epoch_matches_keras_split_and_last_partial_batch():
    assert pipeline.steps_per_epoch(60_000, 128, 0.1) == 422  # 54,000 / 128 = 421.9
    assert pipeline.steps_per_epoch(60_000, 32) == 1875
    assert pipeline.steps_per_epoch(10, 3) == 4


@pytest.mark.parametrize("kwargs", [dict(n_examples=0, batch_size=1),
                                    dict(n_examples=5, batch_size=True),
                                    dict(n_examples=5, batch_size=2, validation_split=1.0)])
def test_steps_per_epoch_rejects_bad_input(kwargs):
    with pytest.raises(ValueError, match="must be"):
        pipeline.steps_per_epoch(**kwargs)


@pytest.mark.parametrize("args, word", [((1.2, 100), "final_sparsity"), ((0.5, 0), "end_step"),
                                        ((0.5, 100, 0.8), "initial_sparsity")])
def test_polynomial_schedule_validates(args, word):
    with pytest.raises(ValueError, match=word):
        pipeline.polynomial_schedule(*args)


def test_prune_model_wraps_only_requested_layers_and_keeps_the_original():
    model = tiny_model()
    before = [w.copy() for w in model.get_weights()]
    pruned = pipeline.prune_model(model, pipeline.polynomial_schedule(0.75, 2), skip=["conv"])
    kinds = {layer.name: type(layer).__name__ for layer in pruned.layers}
    assert kinds["prune_low_magnitude_logits"] == "PruneLowMagnitude"
    assert kinds["conv"] == "Conv2D"
    assert pipeline.is_pruning_wrapped(pruned) and not pipeline.is_pruning_wrapped(model)
    x, _ = data(4)
    np.testing.assert_allclose(pruned.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5)
    pruned.layers[-1].layer.kernel.assign(np.zeros(pruned.layers[-1].layer.kernel.shape))
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # the original model shares no layers


def test_prune_model_rejects_unknown_skip_names_and_keras3_objects():
    with pytest.raises(ValueError, match="nope"):
        pipeline.prune_model(tiny_model(), pipeline.polynomial_schedule(0.5, 2), skip=["nope"])
    with pytest.raises(TypeError, match="tf_keras Model"):
        pipeline.prune_model("model", pipeline.polynomial_schedule(0.5, 2))


def train_pruned(final_sparsity=0.75):
    import tensorflow_model_optimization as tfmot

    x, y = data()
    pruned = pipeline.prune_model(tiny_model(), pipeline.polynomial_schedule(
        final_sparsity, end_step=4, frequency=1), skip=["conv"])
    pruned.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    pruned.fit(x, y, epochs=2, batch_size=16, verbose=0,
               callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    return tfmot.sparsity.keras.strip_pruning(pruned)


def test_pruning_reaches_the_final_sparsity_exactly():
    stripped = train_pruned(0.75)
    kernel = stripped.get_layer("logits").kernel.numpy()
    assert np.mean(kernel == 0) == pytest.approx(0.75, abs=1 / kernel.size)
    assert np.count_nonzero(stripped.get_layer("conv").kernel.numpy() == 0) == 0  # skipped


def test_per_layer_schedules_reach_their_own_sparsity():
    import tensorflow_model_optimization as tfmot

    x, y = data()
    pruned = pipeline.prune_model(
        tiny_model(), pipeline.polynomial_schedule(0.8, end_step=4, frequency=1),
        per_layer={"conv": pipeline.polynomial_schedule(0.5, end_step=4, frequency=1)})
    pruned.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    pruned.fit(x, y, epochs=2, batch_size=16, verbose=0,
               callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    stripped = tfmot.sparsity.keras.strip_pruning(pruned)
    conv = stripped.get_layer("conv").kernel.numpy()
    logits = stripped.get_layer("logits").kernel.numpy()
    assert np.mean(conv == 0) == pytest.approx(0.5, abs=1 / conv.size)
    assert np.mean(logits == 0) == pytest.approx(0.8, abs=1 / logits.size)
    with pytest.raises(ValueError, match="per_layer names layers the model lacks"):
        pipeline.prune_model(tiny_model(), pipeline.polynomial_schedule(0.5, 2), per_layer={"x": 1})


def test_prune_preserving_qat_keeps_zeros_while_plain_qat_loses_them():
    import tensorflow_model_optimization as tfmot

    stripped = train_pruned(0.75)
    zeros = stripped.get_layer("logits").kernel.numpy() == 0
    x, y = data()
    results = {}
    for label, make in (("pqat", pipeline.prune_preserving_qat),
                        ("plain", tfmot.quantization.keras.quantize_model)):
        qat = make(stripped)
        qat.compile(keras.optimizers.SGD(0.5), keras.losses.SparseCategoricalCrossentropy(
            from_logits=True))
        qat.fit(x, y, epochs=1, batch_size=16, verbose=0)
        layer = next(la for la in qat.layers if getattr(la, "layer", la).name == "logits")
        kernel = next(w for w in layer.weights if w.name.endswith("kernel:0")).numpy()
        results[label] = np.mean(kernel[zeros] == 0)
    assert results["pqat"] == 1.0
    assert results["plain"] < 0.5


def test_prune_preserving_qat_refuses_unstripped_models():
    pruned = pipeline.prune_model(tiny_model(), pipeline.polynomial_schedule(0.5, 2))
    with pytest.raises(ValueError, match="strip_pruning"):
        pipeline.prune_preserving_qat(pruned)


def test_stage_record_reports_the_real_sizes(tmp_path):
    path = tmp_path / "models" / "m.tflite"
    path.parent.mkdir()
    payload = bytes(range(256)) * 8 + bytes(1000)
    path.write_bytes(payload)
    row = pipeline.stage_record("final", path, 0.99, 1234, 12.5, root=tmp_path)
    assert row == {"stage": "final", "file": "models/m.tflite", "accuracy": 0.99,
                   "nonzero_params": 1234, "bytes": len(payload),
                   "gzipped_bytes": len(gzip.compress(payload, 9)), "latency_us": 12.5}
    assert pipeline.stage_record("f", path, 1.0, 0, 1.0)["file"] == "m.tflite"
    with pytest.raises(ValueError, match="accuracy"):
        pipeline.stage_record("f", path, 99.0, 1, 1.0)
    with pytest.raises(FileNotFoundError):
        pipeline.stage_record("f", tmp_path / "missing.tflite", 0.5, 1, 1.0)


def test_tflite_weight_sparsity_sees_the_pruned_zeros_in_the_int8_file():
    from helpers import deploy

    stripped = train_pruned(0.75)
    x, _ = data(32)
    conv = stripped.get_layer("conv").kernel.numpy().size
    logits = stripped.get_layer("logits").kernel.numpy().size
    fraction = pipeline.tflite_weight_sparsity(deploy.to_tflite(stripped, "int8", x))
    floor = 0.75 * logits / (conv + logits)  # the pruned zeros alone; rounding may add a few
    assert floor - 1e-9 <= fraction <= floor + 0.05
    with pytest.raises(ValueError, match="no int8 weight tensors"):
        pipeline.tflite_weight_sparsity(deploy.to_tflite(stripped))
