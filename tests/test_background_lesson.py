"""Notebook 01's helpers and check references against Keras itself: the Conv2D reference of
Exercise 1.1 (parameters and multiply-adds), metrics.multiply_adds, and metrics.read_summary."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import keras, metrics
from helpers.checks import background


def _conv_layer(input_shape, filters, kernel_size, strides, padding, use_bias):
    layer = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias)
    keras.Sequential([keras.Input(input_shape), layer])
    return layer


@pytest.mark.parametrize("case", background._CONV_CASES, ids=str)
def test_the_checks_conv2d_reference_is_keras(case):
    layer = _conv_layer(*case)
    params, macs = background._conv_cost(*case)
    assert params == layer.count_params()
    assert macs == int(np.prod(layer.output_shape[1:3])) * int(np.prod(layer.kernel.shape))
    assert macs == metrics.layer_multiply_adds(layer)


def test_the_checks_conv2d_cases_cover_every_kind_of_mistake():
    cases = background._CONV_CASES
    assert {c[4] for c in cases} == {"same", "valid"} and {c[5] for c in cases} == {True, False}
    assert any(max(c[3]) > 1 and c[4] == "valid" for c in cases), "a strided 'valid' case"
    assert any(c[0][0] % max(c[3]) for c in cases if c[4] == "same" and max(c[3]) > 1), \
        "a strided 'same' case whose size the stride does not divide (rounding up)"
    assert any(c[2][0] != c[2][1] and c[3][0] != c[3][1] for c in cases), "non-square kernel and strides"


def test_multiply_adds_of_a_dense_model_is_its_kernel_sizes():
    model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)), keras.layers.Dense(128),
                              keras.layers.Dropout(0.2), keras.layers.Dense(10)])
    assert metrics.multiply_adds(model) == 784 * 128 + 128 * 10


def test_multiply_adds_counts_convolutions_per_output_position_and_skips_batch_norm():
    model = keras.Sequential([
        keras.Input((9, 9, 2)),
        keras.layers.Conv2D(4, 3, strides=2, padding="same"),  # 5x5 positions, 3*3*2*4 weights
        keras.layers.BatchNormalization(),
        keras.layers.DepthwiseConv2D(3),                        # 3x3 positions, 3*3*4 weights
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(3),
    ])
    assert metrics.multiply_adds(model) == 25 * 72 + 9 * 36 + 4 * 3


def test_multiply_adds_of_nonzero_weights_skips_each_zero_at_every_position():
    model = keras.Sequential([
        keras.Input((6, 6, 1)),
        keras.layers.Conv2D(2, 3, name="conv"),  # 4x4 positions, 3*3*1*2 = 18 weights
        keras.layers.Flatten(),
        keras.layers.Dense(3, name="dense"),     # 32*3 = 96 weights
    ])
    conv, dense = model.get_layer("conv"), model.get_layer("dense")
    conv.kernel.assign(np.where(np.arange(18).reshape(3, 3, 1, 2) < 5, 0.0, 1.0))  # 5 zeros
    dense.kernel.assign(np.zeros((32, 3)))
    assert metrics.multiply_adds(model) == 16 * 18 + 96
    assert metrics.multiply_adds(model, nonzero_only=True) == 16 * 13 + 0
    assert metrics.layer_multiply_adds(conv, nonzero_only=True) == 16 * 13


def test_multiply_adds_counts_a_nested_model():
    inner = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5)])
    outer = keras.Sequential([keras.Input((6,)), inner, keras.layers.Dense(2)])
    assert metrics.multiply_adds(outer) == 30 + 10


@pytest.mark.parametrize("layer", [keras.layers.Conv1D(2, 3), keras.layers.Conv2DTranspose(2, 3)],
                         ids=lambda layer: type(layer).__name__)
def test_multiply_adds_refuses_a_layer_it_cannot_count(layer):
    shape = (8, 3) if isinstance(layer, keras.layers.Conv1D) else (4, 4, 3)
    model = keras.Sequential([keras.Input(shape), layer])
    with pytest.raises(ValueError, match=type(layer).__name__):
        metrics.multiply_adds(model)


def test_multiply_adds_refuses_a_non_model():
    with pytest.raises(TypeError, match="model must be a Keras model"):
        metrics.multiply_adds([1, 2])


def _write(path, summary):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary))
    return path


def test_read_summary_prefers_the_notebooks_own_full_run(tmp_path):
    own = _write(tmp_path / "out" / "04_mnist_project" / "summary.json", {"quick_run": False, "id": "own"})
    _write(tmp_path / "res" / "04_summary.json", {"quick_run": False, "id": "committed"})
    summary, path = metrics.read_summary("04_mnist_project", outputs=tmp_path / "out", results=tmp_path / "res")
    assert (summary["id"], path) == ("own", own)


def test_read_summary_skips_a_quick_run_for_the_committed_copy(tmp_path):
    _write(tmp_path / "out" / "04_mnist_project" / "summary.json", {"quick_run": True, "id": "quick"})
    committed = _write(tmp_path / "res" / "04_summary.json", {"quick_run": False, "id": "committed"})
    summary, path = metrics.read_summary("04_mnist_project", outputs=tmp_path / "out", results=tmp_path / "res")
    assert (summary["id"], path) == ("committed", committed)


def test_read_summary_uses_a_quick_run_when_it_is_all_there_is(tmp_path):
    quick = _write(tmp_path / "out" / "04_mnist_project" / "summary.json", {"quick_run": True, "id": "quick"})
    summary, path = metrics.read_summary("04_mnist_project", outputs=tmp_path / "out", results=tmp_path / "res")
    assert (summary["id"], path) == ("quick", quick)


def test_read_summary_names_both_places_when_there_is_none(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither .*summary.json nor .*04_summary.json"):
        metrics.read_summary("04_mnist_project", outputs=tmp_path / "out", results=tmp_path / "res")


@pytest.mark.parametrize("bad", ["", "mnist", "04/x", 4])
def test_read_summary_refuses_a_name_that_is_not_a_notebook_folder(bad):
    with pytest.raises(ValueError, match="notebook must be"):
        metrics.read_summary(bad)


def test_the_committed_summary_of_notebook_04_is_found_in_a_fresh_clone(tmp_path):
    summary, path = metrics.read_summary("04_mnist_project", outputs=tmp_path)  # no run of 04 here
    assert path.name == "04_summary.json" and not summary["quick_run"]
    files = {row["file"] for row in summary["stages"]}
    assert {"mlp_float.tflite", "cnn_float.tflite", summary["final_model"]} <= files, \
        "notebook 01 quotes these three stages"
