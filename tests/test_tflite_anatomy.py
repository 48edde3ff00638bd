"""helpers.tflite_anatomy: stripping names keeps the model's behaviour, and the byte breakdown
adds up to the file and puts the weights where they are."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import deploy, keras, tflite_anatomy


@pytest.fixture(scope="module")
def int8_model() -> bytes:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.layers.Reshape((8, 8, 1), input_shape=(8, 8), name="reshape"),
        keras.layers.Conv2D(4, 3, activation="relu", bias_initializer="random_uniform",
                            name="conv"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(10, bias_initializer="random_uniform", name="logits"),  # a zero
    ])  # bias would be dropped by the converter
    images = np.random.default_rng(0).random((32, 8, 8)).astype(np.float32)
    return deploy.to_tflite(model, "int8", images)


def _names(data: bytes) -> list[str]:
    return [d["name"] for d in deploy.make_interpreter(data).get_tensor_details()]


def _run(data: bytes, x: np.ndarray) -> np.ndarray:
    interpreter = deploy.make_interpreter(data)
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], deploy.prepare_input(x, detail))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def test_strip_names_removes_names_and_keeps_outputs(int8_model):
    stripped = tflite_anatomy.strip_names(int8_model)
    assert len(stripped) < len(int8_model)
    assert any("conv" in name for name in _names(int8_model))
    assert not any(_names(stripped)), "tensor names should be empty after stripping"
    x = np.random.default_rng(1).random((1, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(_run(stripped, x), _run(int8_model, x))


def test_strip_names_rejects_what_is_not_tflite():
    with pytest.raises(ValueError, match="TFLite"):
        tflite_anatomy.strip_names(b"not a model at all")


def test_operator_names_in_execution_order(int8_model):
    ops = tflite_anatomy.operator_names(int8_model)
    assert ops.index("CONV_2D") < ops.index("FULLY_CONNECTED")


def test_byte_breakdown_adds_up_and_counts_every_weight(int8_model):
    stripped = tflite_anatomy.strip_names(int8_model)
    rows = {r["part"]: r for r in tflite_anatomy.byte_breakdown(stripped)}
    assert list(rows) == list(tflite_anatomy.PARTS)
    assert sum(r["bytes"] for r in rows.values()) == len(stripped)
    assert sum(r["share"] for r in rows.values()) == pytest.approx(1.0)
    n_weights = 3 * 3 * 1 * 4 + 6 * 6 * 4 * 10  # int8: one byte each
    assert n_weights <= rows["weights"]["bytes"] < n_weights + 64
    n_biases = 4 + 10  # int32: four bytes each
    assert 4 * n_biases <= rows["biases"]["bytes"] < 4 * n_biases + 64
    assert rows["tensor names"]["bytes"] == 0  # already stripped
    assert rows["quantization parameters"]["bytes"] > 0 and rows["operators"]["bytes"] > 0


def test_byte_breakdown_sees_the_names_before_stripping(int8_model):
    rows = {r["part"]: r["bytes"] for r in tflite_anatomy.byte_breakdown(int8_model)}
    names = sum(len(name) for name in _names(int8_model))
    assert names > 0 and names <= rows["tensor names"] <= 3 * names + 400
    # the converter's file has empty buffers LiteRT's reader drops: the rows still add up to it
    assert len(tflite_anatomy.strip_names(int8_model)) < len(int8_model) - rows["tensor names"]
    assert sum(rows.values()) == len(int8_model)


def test_tensor_bytes_counts_the_stored_data_of_every_tensor(int8_model):
    found = tflite_anatomy.tensor_bytes(int8_model)
    # conv 3x3x1 -> 4 and dense 144 -> 10: int8 kernels, int32 biases, and per output channel a
    # float32 scale and an int64 zero point for each kernel and each bias
    assert found["weights"] == 3 * 3 * 1 * 4 + 144 * 10
    assert found["biases"] == 4 * (4 + 10)
    assert found["quantization"] == 2 * (4 + 10) * (4 + 8)
    interpreter = deploy.make_interpreter(int8_model)
    activations = [d for d in interpreter.get_tensor_details()
                   if d["dtype"] == np.int8 and d["shape"][0] == 1]  # input, output, in between
    assert found["activation quantization"] == 12 * len(activations)
    assert 0 < found["other constants"] < 64  # the reshape's shape vectors
    rows = tflite_anatomy.constant_tensors(int8_model)
    kernels = {row["shape"]: row for row in rows if row["part"] == "weights"}
    assert set(kernels) == {(4, 3, 3, 1), (10, 144)}  # TFLite stores output channels first
    assert all(row["type"] == "INT8" and row["scales"] == row["shape"][0]
               for row in kernels.values())
    assert {row["type"] for row in rows if row["part"] == "biases"} == {"INT32"}
    assert sum(found.values()) < len(int8_model)  # the flatbuffer's tables come on top
