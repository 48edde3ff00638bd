"""Where the bytes of a .tflite file go (weights, biases, quantization parameters, names,
operators, the rest of the flatbuffer), and stripping what a device does not need."""

from __future__ import annotations

from helpers.deploy import TFLiteModel, read_tflite


def _flatbuffer_utils():
    from tensorflow.lite.tools import flatbuffer_utils

    return flatbuffer_utils


def strip_names(model: TFLiteModel) -> bytes:
    """Return the model's bytes without tensor names, subgraph name, description and signatures
    (TensorFlow's flatbuffer_utils.strip_strings); the interpreter runs it the same way."""
    utils = _flatbuffer_utils()
    obj = utils.read_model_from_bytearray(bytearray(read_tflite(model)))
    utils.strip_strings(obj)
    return bytes(utils.convert_object_to_bytearray(obj))
