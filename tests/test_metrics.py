"""Metrics agree with hand-computed values, and reject bad input clearly."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from helpers import deploy, keras, metrics, models


def dense_model(n_in: int = 784, n_out: int = 128) -> keras.Model:
    return keras.Sequential([keras.layers.Dense(n_out, input_shape=(n_in,))])


def test_dense_784_to_128_has_100480_parameters():
    assert metrics.count_params(dense_model()) == 784 * 128 + 128 == 100_480


def test_mlp_and_cnn_parameter_counts_match_hand_counts():
    assert metrics.count_params(models.build_mlp()) == (784 * 128 + 128) + (128 * 10 + 10)
    # tutorial CNN: conv 3x3x1x12 + 12, dense (13*13*12) x 10 + 10
    assert metrics.count_params(models.build_cnn()) == (9 * 12 + 12) + (13 * 13 * 12 * 10 + 10)
    assert metrics.count_params(models.build_mlp(hidden_units=7)) == 784 * 7 + 7 + 7 * 10 + 10


def test_half_zeroed_kernel_reports_exact_sparsity():
    model = dense_model(10, 4)  # 40 kernel weights, 4 biases
    kernel, bias = model.get_weights()
    kernel = np.arange(1, 41, dtype=np.float32).reshape(10, 4)
    kernel[:5] = 0.0  # 20 of 40 zeroed
    model.set_weights([kernel, np.ones(4, dtype=np.float32)])
    rows = {r["name"].split("/")[-1]: r for r in metrics.sparsity_table(model)}
    assert rows["kernel:0"]["nonzero"] == 20 and rows["kernel:0"]["sparsity"] == 0.5
    assert rows["bias:0"]["sparsity"] == 0.0
    assert metrics.total_sparsity(model) == pytest.approx(20 / 44, abs=0)


def test_file_and_gzipped_sizes_are_exact(tmp_path):
    path = tmp_path / "blob.bin"
    payload = bytes(range(256)) * 40 + b"\x00" * 5000
    path.write_bytes(payload)
    assert metrics.file_size(path) == len(payload) == 15240
    assert metrics.gzipped_size(path) == len(gzip.compress(payload, 9))
    assert metrics.gzipped_size(path) < metrics.file_size(path)


def test_saved_keras_size_is_about_4_bytes_per_parameter(tmp_path):
    model = dense_model()
    path = metrics.save_keras_model(model, tmp_path / "m.h5")
    payload = 4 * metrics.count_params(model)
    assert payload < metrics.file_size(path) < payload + 20_000


def test_keras_and_tflite_accuracy_match_a_hand_built_classifier():
    # logits = x[:, :10] picks the class of the brightest of the first 10 pixels of each row
    model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                              keras.layers.Dense(10, use_bias=False)])
    weights = np.zeros((784, 10), dtype=np.float32)
    weights[np.arange(10), np.arange(10)] = 1.0
    model.set_weights([weights])
    images = np.zeros((20, 28, 28), dtype=np.uint8)
    labels = np.arange(20) % 10
    images[np.arange(20), 0, labels] = 255
    wrong = labels.copy()
    wrong[:5] = (wrong[:5] + 1) % 10  # 5 of 20 labels wrong -> 75%
    assert metrics.keras_accuracy(model, images, labels) == 1.0
    assert metrics.keras_accuracy(model, images, wrong) == 0.75
    tflite = deploy.to_tflite(model)
    assert metrics.tflite_accuracy(tflite, images, wrong) == 0.75


def test_litert_latency_is_positive_and_ordered(tmp_path):
    path = deploy.save_tflite(deploy.to_tflite(models.build_mlp(hidden_units=8)), tmp_path / "t.tflite")
    result = metrics.litert_latency(path, runs=50, warmup=5)
    assert np.isfinite(result["median_us"]) and result["median_us"] > 0
    assert result["p90_us"] >= result["median_us"]
    batched = metrics.litert_latency(path, np.zeros((32, 28, 28), np.float32), runs=20, warmup=2)
    assert batched["batch_size"] == 32


@pytest.mark.parametrize("not_a_model", [None, "model.h5", np.zeros(3), 42])
def test_metrics_reject_things_that_are_not_models(not_a_model):
    for function in (metrics.count_params, metrics.sparsity_table, metrics.total_sparsity):
        with pytest.raises(TypeError, match="Keras model"):
            function(not_a_model)


def test_missing_paths_raise_file_not_found(tmp_path):
    missing = tmp_path / "missing.tflite"
    for function in (metrics.file_size, metrics.gzipped_size):
        with pytest.raises(FileNotFoundError, match="missing.tflite"):
            function(missing)
    with pytest.raises(FileNotFoundError, match="missing.tflite"):
        metrics.litert_latency(missing)
    with pytest.raises(FileNotFoundError, match="missing.tflite"):
        metrics.tflite_accuracy(missing, np.zeros((1, 28, 28)), [0])


@pytest.mark.parametrize("runs", [0, -1, 2.5, True])
def test_latency_rejects_bad_run_counts(runs):
    tflite = deploy.to_tflite(models.build_mlp(hidden_units=4))
    with pytest.raises(ValueError, match="runs"):
        metrics.litert_latency(tflite, runs=runs)


def test_latency_and_accuracy_reject_wrong_input_shape():
    tflite = deploy.to_tflite(models.build_mlp(hidden_units=4))
    with pytest.raises(ValueError, match="shape"):
        metrics.litert_latency(tflite, np.zeros((32, 32), np.float32))
    with pytest.raises(ValueError, match="shape"):
        metrics.tflite_accuracy(tflite, np.zeros((3, 14, 14), np.uint8), [0, 1, 2])
    with pytest.raises(ValueError, match="labels"):
        metrics.tflite_accuracy(tflite, np.zeros((3, 28, 28), np.uint8), [0, 1])


def test_non_tflite_bytes_are_rejected():
    with pytest.raises(ValueError, match="TFL3"):
        metrics.litert_latency(b"not a model at all")
    with pytest.raises(TypeError, match="bytes or a path"):
        metrics.litert_latency(123)


def test_save_keras_model_requires_h5_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.h5"):
        metrics.save_keras_model(dense_model(), tmp_path / "model.keras")


def test_sizes_of_bytes_given_directly_match_the_file(tmp_path):
    data = bytes(range(256)) * 40
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert metrics.file_size(data) == metrics.file_size(path) == len(data)
    assert metrics.gzipped_size(data) == metrics.gzipped_size(path) == len(gzip.compress(data, 9))


def test_a_fixed_batch_model_is_refused_a_batch_with_a_clear_error():
    from helpers import keras

    model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)), keras.layers.Dense(10)])
    flexible = deploy.to_tflite(model)
    assert metrics.supports_batch(flexible)
    assert metrics.litert_latency(flexible, np.zeros((4, 28, 28), np.float32), runs=2)["batch_size"] == 4
    fixed_model = keras.Sequential([keras.layers.Flatten(batch_input_shape=(1, 28, 28)),
                                    keras.layers.Dense(10)])
    fixed = deploy.to_tflite(fixed_model)
    assert not metrics.supports_batch(fixed)
    assert metrics.litert_latency(fixed, np.zeros((28, 28), np.float32), runs=2)["batch_size"] == 1
    with pytest.raises(ValueError, match="batch size is fixed at 1"):
        metrics.litert_latency(fixed, np.zeros((32, 28, 28), np.float32), runs=2)
