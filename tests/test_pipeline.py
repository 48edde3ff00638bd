"""helpers.pipeline: pruning wrappers where asked, a schedule that reaches its sparsity, QAT that
keeps the zeros, and stage records that match the files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import helpers
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


def _weights(model) -> list[np.ndarray]:
    return [w.numpy() for w in model.weights]


def test_prune_and_fit_takes_the_end_step_of_notebook_04s_exercise():
    x, y = data()  # 72 training images at batch 16: 5 steps per epoch, 10 in two epochs
    common = dict(sparsity=0.5, epochs=2, learning_rate=1e-2, end_fraction=0.5, frequency=1,
                  batch_size=16, validation_split=0.25, verbose=0)
    default = pipeline.prune_and_fit(tiny_model(), x, y, **common)
    given = pipeline.prune_and_fit(tiny_model(), x, y, **common, end_step=np.int64(5))
    for a, b in zip(_weights(default), _weights(given), strict=True):
        np.testing.assert_array_equal(a, b)  # int(10 * 0.5) = 5: the same schedule, same model
    later = pipeline.prune_and_fit(tiny_model(), x, y, **common, end_step=10)
    pairs = zip(_weights(default), _weights(later), strict=True)
    assert not all(np.array_equal(a, b) for a, b in pairs)
    for bad in (0, 11, 2.5, True, "5"):
        with pytest.raises(ValueError, match=r"end_step must be an int from 1 to 10 \(the optimizer"):
            pipeline.prune_and_fit(tiny_model(), x, y, **common, end_step=bad)


def test_pqat_and_fit_trains_the_model_that_make_model_builds():
    x, y = data()
    stripped = train_pruned(0.75)
    common = dict(epochs=1, learning_rate=1e-3, batch_size=16, validation_split=0.25, verbose=0)
    calls = []

    def make_model(model):
        calls.append(model)
        return pipeline.prune_preserving_qat(model)

    keras.utils.set_random_seed(1)
    default = pipeline.pqat_and_fit(stripped, x, y, **common)
    keras.utils.set_random_seed(1)
    given = pipeline.pqat_and_fit(stripped, x, y, **common, make_model=make_model)
    assert calls == [stripped]
    for a, b in zip(_weights(default), _weights(given), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="make_model must return a tf_keras Model"):
        pipeline.pqat_and_fit(stripped, x, y, **common, make_model=lambda model: None)
    with pytest.raises(TypeError, match="make_model must be a function"):
        pipeline.pqat_and_fit(stripped, x, y, **common, make_model="pqat")
    pruned = pipeline.prune_model(tiny_model(), pipeline.polynomial_schedule(0.5, 2))
    with pytest.raises(ValueError, match="strip_pruning"):
        pipeline.pqat_and_fit(pruned, x, y, **common, make_model=make_model)


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


def test_clustering_keeps_the_zeros_and_ties_the_rest_to_few_values_and_pcqat_keeps_both():
    stripped = train_pruned(0.5)
    zeros = stripped.get_layer("logits").kernel.numpy() == 0
    x, y = data()
    clustered = pipeline.cluster_and_fit(stripped, x, y, clusters=4, epochs=1, learning_rate=1e-3,
                                         validation_split=0.0, batch_size=16, verbose=0)
    assert not pipeline.is_pruning_wrapped(clustered) and [la.name for la in clustered.layers] == [
        la.name for la in stripped.layers]
    for name in ("conv", "logits"):
        kernel = clustered.get_layer(name).kernel.numpy()
        assert len(np.unique(kernel[kernel != 0])) <= 4, name
    assert np.all(clustered.get_layer("logits").kernel.numpy()[zeros] == 0)
    assert np.array_equal(stripped.get_layer("logits").kernel.numpy() == 0, zeros), "the input model is unchanged"
    pcqat = pipeline.pqat_and_fit(clustered, x, y, epochs=1, learning_rate=1e-2, validation_split=0.0,
                                  batch_size=16, verbose=0, make_model=pipeline.pcqat_model)
    data_int8 = pipeline.export_int8(pcqat, x[:16])
    from helpers import tflite_anatomy

    assert tflite_anatomy.most_codes_per_channel(data_int8) <= 4
    assert tflite_anatomy.most_codes_per_channel(pipeline.export_int8(stripped, x[:16])) > 4  # unclustered
    assert tflite_anatomy.weight_sparsity(data_int8) >= 0.4  # the logits' zeros survive PCQAT and export


def test_clustering_refuses_an_unstripped_model_and_too_few_clusters():
    pruned = pipeline.prune_model(tiny_model(), pipeline.polynomial_schedule(0.5, 2))
    x, y = data()
    with pytest.raises(ValueError, match="strip_pruning"):
        pipeline.cluster_and_fit(pruned, x, y, clusters=4, epochs=1, learning_rate=1e-3)
    with pytest.raises(ValueError, match="clusters"):
        pipeline.cluster_and_fit(pipeline.strip_pruning(pruned), x, y, clusters=0, epochs=1, learning_rate=1e-3)


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


# --- notebook 04's recipe ------------------------------------------------------------------

def test_record_recipe_shortens_only_under_course_quick(monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "0")
    full = pipeline.record_recipe()
    assert full["train_images"] is None
    assert full["float"]["epochs"] == pipeline.RECORD_RECIPE["float"]["epochs"] > 1
    monkeypatch.setenv("COURSE_QUICK", "1")
    quick = pipeline.record_recipe()
    assert quick["train_images"] == pipeline.QUICK_TRAIN_IMAGES
    assert {quick[s]["epochs"] for s in ("float", "prune", "pqat")} == {1}
    assert pipeline.RECORD_RECIPE["float"]["epochs"] == full["float"]["epochs"]  # not mutated


def test_record_model_is_the_recipes_design():
    model = pipeline.build_record_model()
    assert model.input_shape == (None, 28, 28) and model.output_shape == (None, 10)
    assert sum(isinstance(la, keras.layers.BatchNormalization) for la in model.layers) == 3
    assert model.get_layer("logits").kernel.shape == (3 * 3 * 32, 10)
    for name in pipeline.RECORD_RECIPE["prune"]["skip"]:
        model.get_layer(name)  # the skipped layers exist
    with pytest.raises(ValueError, match="filters"):
        helpers.models.build_record_cnn((8, 16))


def test_augmented_dataset_moves_images_and_keeps_shapes_and_labels():
    x = np.zeros((8, 28, 28), np.float32)
    x[:, 12:16, 12:16] = 1.0
    y = np.arange(8)
    batches = list(pipeline.augmented_dataset(x, y, 4, shift_px=3.0, rotation_deg=15.0, seed=1))
    images = np.concatenate([b[0].numpy() for b in batches])
    labels = np.concatenate([b[1].numpy() for b in batches])
    assert images.shape == x.shape and sorted(labels) == list(y)
    assert not np.allclose(images, x), "the images should have moved"
    assert images.sum() == pytest.approx(x.sum(), rel=0.3)  # moved, not erased
    with pytest.raises(ValueError, match="shift_px"):
        pipeline.augmented_dataset(x, y, 4, shift_px=-1.0, rotation_deg=0.0)


def test_fit_cosine_trains_with_a_decaying_rate_and_validates_epochs():
    x, y = data()
    model = tiny_model()
    history = pipeline.fit_cosine(model, x, y, epochs=2, learning_rate=1e-2, batch_size=16,
                                  validation_split=0.25, verbose=0)
    assert len(history.history["val_accuracy"]) == 2
    schedule = model.optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "CosineDecay"
    assert schedule["config"]["initial_learning_rate"] == pytest.approx(1e-2)
    assert schedule["config"]["decay_steps"] == 2 * 5  # 72 images at batch 16: 5 steps an epoch
    assert float(model.optimizer.learning_rate) < 1e-2  # decayed after training
    with pytest.raises(ValueError, match="epochs"):
        pipeline.fit_cosine(tiny_model(), x, y, epochs=0, learning_rate=1e-3)
    with pytest.raises(ValueError, match="same length"):
        pipeline.fit_cosine(tiny_model(), x, y[:-1], epochs=1, learning_rate=1e-3)


def test_batch_one_export_drops_the_batch_size_operators_and_keeps_the_predictions():
    from helpers import deploy, tflite_anatomy

    model = tiny_model()
    x, _ = data(32)
    dynamic = deploy.to_tflite(model, "int8", x)
    fixed = pipeline.to_tflite_batch_one(model, x)
    assert "SHAPE" in tflite_anatomy.operator_names(dynamic)
    assert "SHAPE" not in tflite_anatomy.operator_names(fixed) and len(fixed) < len(dynamic)
    detail = deploy.make_interpreter(fixed).get_input_details()[0]
    assert list(detail["shape"]) == [1, 8, 8] and detail["dtype"] == np.int8
    np.testing.assert_array_equal(deploy.tflite_predict(fixed, x),
                                  deploy.tflite_predict(dynamic, x))
    final = pipeline.export_int8(model, x)
    assert final == tflite_anatomy.strip_names(fixed)
    assert deploy.make_interpreter(pipeline.to_tflite_batch_one(model)).get_input_details()[0][
        "dtype"] == np.float32
    with pytest.raises(ValueError, match="representative_images"):
        pipeline.to_tflite_batch_one(model, x[:0])


def test_int4_weights_halve_the_weight_bytes_and_keep_float_compute():
    from helpers import deploy, tflite_anatomy

    model = tiny_model()
    x, _ = data(32)
    float_model = pipeline.to_tflite_batch_one(model)
    int4 = pipeline.int4_weights(float_model)
    assert "DEQUANTIZE" in tflite_anatomy.operator_names(int4)
    assert deploy.make_interpreter(int4).get_input_details()[0]["dtype"] == np.float32
    weights = {r["part"]: r["bytes"] for r in tflite_anatomy.byte_breakdown(float_model)}["weights"]
    weights4 = {r["part"]: r["bytes"] for r in tflite_anatomy.byte_breakdown(int4)}["weights"]
    assert weights4 <= weights / 8 + 64  # float32 -> 4 bits: an eighth, plus alignment
    agree = np.mean(deploy.tflite_predict(int4, x) == deploy.tflite_predict(float_model, x))
    assert agree >= 0.8


def test_train_record_model_validates_the_seed(tmp_path):
    with pytest.raises(ValueError, match="seed"):
        pipeline.train_record_model(tmp_path, seed=-1)
    with pytest.raises(ValueError, match="seed"):
        pipeline.train_record_model(tmp_path, seed=True)
