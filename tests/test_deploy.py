"""TFLite conversion, reading models, and the C-array export for microcontrollers."""

from __future__ import annotations

import re

import numpy as np
import pytest

from helpers import deploy, metrics, models


def parse_c_array(source: str, name: str) -> tuple[bytes, int]:
    """Read the bytes and the declared length back from to_c_array's C source."""
    body = re.search(rf"unsigned char {name}\[\] = \{{(.*?)\}};", source, re.S).group(1)
    data = bytes(int(token, 16) for token in re.findall(r"0x([0-9a-f]{2})", body))
    length = int(re.search(rf"unsigned int {name}_len = (\d+);", source).group(1))
    return data, length


@pytest.fixture(scope="module")
def tiny_tflite() -> bytes:
    return deploy.to_tflite(models.build_mlp(hidden_units=4))


@pytest.mark.parametrize("payload", [b"", b"\x00", bytes(range(256)) * 3, b"\xff" * 25])
def test_c_array_round_trips_arbitrary_bytes(payload):
    source = deploy.to_c_array(payload, "blob", bytes_per_line=12)
    data, length = parse_c_array(source, "blob")
    assert data == payload and length == len(payload)


def test_c_array_round_trips_a_real_model(tiny_tflite):
    source = deploy.to_c_array(tiny_tflite, "g_model")
    data, length = parse_c_array(source, "g_model")
    assert data == tiny_tflite and length == len(tiny_tflite)
    assert "alignas(16)" in source
    assert all(len(line) <= 80 for line in source.splitlines()[1:])


@pytest.mark.parametrize("bad", ["1model", "my-model", "model name", "", "int", "café", None])
def test_c_array_rejects_invalid_identifiers(bad):
    with pytest.raises(ValueError, match="C identifier"):
        deploy.to_c_array(b"\x01", bad)


def test_c_array_rejects_non_bytes():
    with pytest.raises(TypeError, match="bytes"):
        deploy.to_c_array("not bytes", "model")


def test_unknown_optimization_is_rejected():
    with pytest.raises(ValueError, match="optimization"):
        deploy.to_tflite(models.build_mlp(hidden_units=4), optimization="int4")
    with pytest.raises(ValueError, match="representative_images"):
        deploy.to_tflite(models.build_mlp(hidden_units=4), optimization="int8")


def test_int8_model_has_integer_input_and_keeps_predictions(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    model = models.build_mlp(hidden_units=16)
    from helpers import training

    training.set_seed(1)
    training.fit(model, x_train[:6000], y_train[:6000], epochs=1, verbose=0)
    int8 = deploy.to_tflite(model, "int8", x_train[:200])
    detail = deploy.make_interpreter(int8).get_input_details()[0]
    assert detail["dtype"] == np.int8
    keras_acc = metrics.keras_accuracy(model, x_test[:2000], y_test[:2000])
    assert abs(metrics.tflite_accuracy(int8, x_test[:2000], y_test[:2000]) - keras_acc) < 0.02


def test_read_tflite_rejects_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError):
        deploy.read_tflite(tmp_path / "none.tflite")
    with pytest.raises(ValueError, match="TFL3"):
        deploy.read_tflite(b"12345678")
    with pytest.raises(ValueError, match="num_threads"):
        deploy.make_interpreter(deploy.to_tflite(models.build_mlp(hidden_units=4)), num_threads=0)
