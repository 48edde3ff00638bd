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


PARTS = ("weights", "biases", "other constants", "quantization parameters", "tensor names",
         "operators", "metadata", "rest of the flatbuffer")
_BIAS_INPUT = {"CONV_2D": 2, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 2, "TRANSPOSE_CONV": 3}


def _read(model: TFLiteModel):
    return _flatbuffer_utils().read_model_from_bytearray(bytearray(read_tflite(model)))


def _pack(obj) -> bytes:
    return bytes(_flatbuffer_utils().convert_object_to_bytearray(obj))


def operator_names(model: TFLiteModel) -> list[str]:
    """The builtin name of every operator of the first subgraph, in execution order."""
    obj = _read(model)
    utils = _flatbuffer_utils()
    return [utils.opcode_to_name(obj, op.opcodeIndex) or "CUSTOM"
            for op in obj.subgraphs[0].operators]


def constant_buffers(model: TFLiteModel) -> dict[str, list[int]]:
    """Indices of the data buffers holding weights (kernels), biases and other constants
    (a weight stored in int4 or int8 and expanded by a DEQUANTIZE operator counts as a weight)."""
    return _constant_buffers(_read(model))


def _constant_buffers(obj) -> dict[str, list[int]]:
    """`constant_buffers` of an already parsed model."""
    utils = _flatbuffer_utils()
    bias_tensors, weight_tensors = set(), set()
    for subgraph in obj.subgraphs:
        dequantized = {}  # output tensor of a DEQUANTIZE -> its (int4/int8) input tensor
        for op in subgraph.operators:
            if utils.opcode_to_name(obj, op.opcodeIndex) == "DEQUANTIZE":
                dequantized[int(op.outputs[0])] = int(op.inputs[0])
        for op in subgraph.operators:
            position = _BIAS_INPUT.get(utils.opcode_to_name(obj, op.opcodeIndex))
            inputs = [dequantized.get(int(i), int(i)) for i in
                      (op.inputs if op.inputs is not None else [])]
            if position is not None:
                weight_tensors.add((id(subgraph), inputs[1]))
                if len(inputs) > position and inputs[position] >= 0:
                    bias_tensors.add((id(subgraph), inputs[position]))
    groups: dict[str, list[int]] = {"weights": [], "biases": [], "other constants": []}
    for subgraph in obj.subgraphs:
        for index, tensor in enumerate(subgraph.tensors):
            data = obj.buffers[tensor.buffer].data if tensor.buffer else None
            if data is None or len(data) == 0:
                continue
            key = (id(subgraph), index)
            group = ("weights" if key in weight_tensors else
                     "biases" if key in bias_tensors else "other constants")
            groups[group].append(tensor.buffer)
    return groups


def _quantization_bytes(tensor) -> int:
    """Bytes of a tensor's quantization arrays as stored: float32 scales (and min/max), int64
    zero points (the schema's `[long]`)."""
    import numpy as np

    q = tensor.quantization
    if q is None:
        return 0
    return sum(np.asarray(values).nbytes for values in (q.scale, q.zeroPoint, q.min, q.max)
               if values is not None)


def _type_names() -> dict[int, str]:
    from tensorflow.lite.python import schema_py_generated as schema

    return {value: name for name, value in vars(schema.TensorType).items() if name.isupper()}


def constant_tensors(model: TFLiteModel) -> list[dict]:
    """One row per tensor with data in the file: "part" ("weights", "biases" or "other
    constants"), "shape", "type" (e.g. "INT8"), "buffer" (its index), "bytes" (its data),
    "scales" (how many quantization scales it stores) and "quantization_bytes" (its scales and
    zero points as stored). Taught in notebook 04, §5 (Exercise 4.3)."""
    return _constant_tensors(_read(model))


def _constant_tensors(obj) -> list[dict]:
    """`constant_tensors` of an already parsed model."""
    group_of = {index: group for group, indices in _constant_buffers(obj).items()
                for index in indices}
    types = _type_names()
    rows = []
    for subgraph in obj.subgraphs:
        for tensor in subgraph.tensors:
            if tensor.buffer not in group_of:
                continue
            q = tensor.quantization
            rows.append({"part": group_of[tensor.buffer],
                         "shape": tuple(int(d) for d in tensor.shape),
                         "type": types.get(tensor.type, str(tensor.type)),
                         "buffer": int(tensor.buffer),
                         "bytes": len(obj.buffers[tensor.buffer].data),
                         "scales": 0 if q is None or q.scale is None else len(q.scale),
                         "quantization_bytes": _quantization_bytes(tensor)})
    return rows


def tensor_bytes(model: TFLiteModel) -> dict[str, int]:
    """The data of a .tflite's tensors, in bytes as stored, without the flatbuffer around it:
    "weights" (the kernels' buffers), "biases", "quantization" (the scales and zero points of
    the kernels and biases), "other constants", and "activation quantization" (the scales and
    zero points of every other tensor). Taught in notebook 04, §5 (Exercise 4.3)."""
    obj = _read(model)
    rows = _constant_tensors(obj)
    found = dict.fromkeys(("weights", "biases", "quantization", "other constants",
                           "activation quantization"), 0)
    for row in {row["buffer"]: row for row in rows}.values():  # a shared buffer is stored once
        found[row["part"]] += row["bytes"]
    found["quantization"] = sum(row["quantization_bytes"] for row in rows
                                if row["part"] in ("weights", "biases"))
    constants = {row["buffer"] for row in rows}
    found["activation quantization"] = sum(
        _quantization_bytes(tensor) for subgraph in obj.subgraphs
        for tensor in subgraph.tensors if tensor.buffer not in constants)
    return found


def byte_breakdown(model: TFLiteModel) -> list[dict]:
    """Where the bytes of a .tflite go: one row per part of PARTS with "part", "bytes" (what
    removing that part from the file saves) and "share" of the file; "rest of the flatbuffer"
    (tensor shapes and types, tables, offsets, alignment) is what the others leave.

    Each part is measured by removing it and re-packing the flatbuffer, so the rows add up to
    the re-packed size, which the first row of the result's total (`bytes` of all rows) equals.
    """
    utils = _flatbuffer_utils()
    parsed = _read(model)
    total = len(_pack(parsed))
    groups = _constant_buffers(parsed)

    def without(change) -> int:
        obj = _read(model)
        change(obj)
        return total - len(_pack(obj))

    def drop_buffers(indices):
        def change(obj):
            for index in indices:
                obj.buffers[index].data = None
        return change

    def drop_quantization(obj):
        for subgraph in obj.subgraphs:
            for tensor in subgraph.tensors:
                tensor.quantization = None

    def drop_operators(obj):
        for subgraph in obj.subgraphs:
            subgraph.operators = None
        obj.operatorCodes = None

    def drop_metadata(obj):
        for entry in obj.metadata or []:
            obj.buffers[entry.buffer].data = None
        obj.metadata = None
        obj.metadataBuffer = None

    saved = {name: without(drop_buffers(indices)) for name, indices in groups.items()}
    saved["quantization parameters"] = without(drop_quantization)
    saved["tensor names"] = without(utils.strip_strings)
    saved["operators"] = without(drop_operators)
    saved["metadata"] = without(drop_metadata)
    saved["rest of the flatbuffer"] = total - sum(saved.values())
    return [{"part": part, "bytes": saved[part], "share": saved[part] / total} for part in PARTS]
