"""Model builders, seeding and the fit helper."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import metrics, models, training


def test_mlp_is_the_articles_architecture():
    model = models.build_mlp()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Flatten", "Dense", "Dropout", "Dense"]
    assert model.get_layer("hidden").units == 128 and model.get_layer("dropout").rate == 0.2
    assert model.output_shape == (None, 10)


@pytest.mark.parametrize("kwargs", [{"hidden_units": 0}, {"hidden_units": 1.5}, {"dropout": 1.0},
                                    {"dropout": -0.1}])
def test_mlp_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        models.build_mlp(**kwargs)


def test_cnn_rejects_bad_arguments():
    with pytest.raises(ValueError, match="filters"):
        models.build_cnn(filters=0)
    with pytest.raises(ValueError, match="dense_units"):
        models.build_cnn(dense_units=-1)


def test_seeded_training_is_reproducible(mnist):
    (x_train, y_train), _ = mnist
    weights = []
    for _ in range(2):
        training.set_seed(7)
        model = models.build_mlp(hidden_units=16)
        training.fit(model, x_train[:512], y_train[:512], epochs=1, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_learns_something_on_a_small_subset(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    training.set_seed(0)
    model = models.build_mlp(hidden_units=32)
    history = training.fit(model, x_train[:10000], y_train[:10000], epochs=2, verbose=0)
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert metrics.keras_accuracy(model, x_test[:1000], y_test[:1000]) > 0.8


def test_fit_and_helpers_reject_bad_input():
    model = models.build_mlp(hidden_units=4)
    x = np.zeros((10, 28, 28), np.uint8)
    with pytest.raises(ValueError, match="epochs"):
        training.fit(model, x, np.zeros(10), epochs=0)
    with pytest.raises(ValueError, match="same length"):
        training.fit(model, x, np.zeros(9), epochs=1)
    with pytest.raises(ValueError, match="validation_split"):
        training.fit(model, x, np.zeros(10), validation_split=1.0)
    with pytest.raises(ValueError, match="seed"):
        training.set_seed(-1)
    with pytest.raises(TypeError, match="dtype"):
        training.as_float(np.array(["a"]))


def test_as_float_scales_uint8_only():
    np.testing.assert_array_equal(training.as_float(np.array([0, 255], np.uint8)), [0.0, 1.0])
    np.testing.assert_array_equal(training.as_float(np.array([0.5])), [0.5])


def test_quick_run_switch(monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert training.run_size(5, quick=1) == 1
    monkeypatch.setenv("COURSE_QUICK", "0")
    assert training.run_size(5, quick=1) == 5
    monkeypatch.delenv("COURSE_QUICK")
    assert training.run_size([1, 2, 3], quick=[1]) == [1, 2, 3]
