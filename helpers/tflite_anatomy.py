"""Reading a .tflite file with LiteRT's own flatbuffer reader (`ai_edge_litert.tools.
flatbuffer_utils`, no TensorFlow import): which tensors are weights, the numbers they store,
where the file's bytes go (weights, biases, quantization parameters, names, operators, the rest
of the flatbuffer), and stripping what a device does not need.

LiteRT's reader drops the converter's empty buffers when it parses a file, so a file it packs
again is smaller than the converter's, with the same tensors and operators."""

from __future__ import annotations

import math

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.tools import flatbuffer_utils

from helpers.deploy import TFLiteModel, read_tflite

PARTS = ("weights", "biases", "other constants", "quantization parameters", "tensor names",
         "operators", "metadata", "rest of the flatbuffer")
CONSTANT_PARTS = ("weights", "biases", "other constants")
# Operators with a weight (filter) tensor: its input position, and that of the bias.
_WEIGHT_INPUT = {"CONV_2D": (1, 2), "DEPTHWISE_CONV_2D": (1, 2), "FULLY_CONNECTED": (1, 2),
                 "TRANSPOSE_CONV": (1, 3), "CONV_3D": (1, 2), "EMBEDDING_LOOKUP": (1, None)}
# NumPy dtypes of the tensor types whose buffers hold one value per element.
_DTYPES = {"INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16, "INT32": np.int32,
           "INT64": np.int64, "FLOAT16": np.float16, "FLOAT32": np.float32,
           "FLOAT64": np.float64, "BOOL": np.bool_}


def read_model(model: TFLiteModel) -> schema.ModelT:
    """Parse a .tflite (bytes or path) into LiteRT's object tree (`schema_py_generated.ModelT`)."""
    return flatbuffer_utils.read_model_from_bytearray(bytearray(read_tflite(model)))


def _pack(obj: schema.ModelT) -> bytes:
    return bytes(flatbuffer_utils.convert_object_to_bytearray(obj))


def strip_names(model: TFLiteModel) -> bytes:
    """Return the model's bytes without tensor names, subgraph name, description and signatures
    (LiteRT's flatbuffer_utils.strip_strings); the interpreter runs it the same way.

    Taught in notebook 04, §5."""
    obj = read_model(model)
    flatbuffer_utils.strip_strings(obj)
    return _pack(obj)


def type_name(tensor_type: int) -> str:
    """The schema's name of a tensor type code, e.g. 9 -> "INT8", 17 -> "INT4"."""
    return flatbuffer_utils.type_to_name(tensor_type)


def _operator_name(obj: schema.ModelT, op: schema.OperatorT) -> str:
    return flatbuffer_utils.opcode_to_name(obj, op.opcodeIndex) or "CUSTOM"


def operator_names(model: TFLiteModel) -> list[str]:
    """The builtin name of every operator of the first subgraph, in execution order.

    Taught in notebook 04, §5.
    """
    obj = read_model(model)
    return [_operator_name(obj, op) for op in obj.subgraphs[0].operators]


def _roles(obj: schema.ModelT) -> dict[tuple[int, int], str]:
    """(subgraph, tensor) -> "weights" or "biases", for each tensor an operator reads as its
    weight (filter) or bias input; a weight stored in int4 or int8 and expanded by a DEQUANTIZE
    operator counts as a weight too."""
    roles = {}
    for s, subgraph in enumerate(obj.subgraphs):
        dequantized = {int(op.outputs[0]): int(op.inputs[0]) for op in subgraph.operators or []
                       if _operator_name(obj, op) == "DEQUANTIZE"}
        for op in subgraph.operators or []:
            positions = _WEIGHT_INPUT.get(_operator_name(obj, op))
            inputs = [dequantized.get(int(i), int(i)) for i in op.inputs or []]
            if positions is None:
                continue
            for role, position in zip(("weights", "biases"), positions, strict=True):
                if position is not None and len(inputs) > position and inputs[position] >= 0:
                    key = (s, inputs[position])
                    roles[key] = "weights" if "weights" in (role, roles.get(key)) else role
    return roles


def _has_data(obj: schema.ModelT, tensor: schema.TensorT) -> bool:
    data = obj.buffers[tensor.buffer].data if tensor.buffer else None
    return data is not None and len(data) > 0


def constant_buffers(model: TFLiteModel) -> dict[str, list[int]]:
    """Indices of the data buffers holding weights (kernels), biases and other constants
    (a weight stored in int4 or int8 and expanded by a DEQUANTIZE operator counts as a weight)."""
    return _constant_buffers(read_model(model))


def _constant_buffers(obj: schema.ModelT) -> dict[str, list[int]]:
    """`constant_buffers` of an already parsed model."""
    groups: dict[str, list[int]] = {part: [] for part in CONSTANT_PARTS}
    for row in _constant_rows(obj):
        groups[row["part"]].append(row["buffer"])
    return groups


def _constant_rows(obj: schema.ModelT) -> list[dict]:
    """part, subgraph, index and buffer of every tensor whose buffer holds data: a constant."""
    roles = _roles(obj)
    return [{"part": roles.get((s, index), "other constants"), "subgraph": s, "index": index,
             "buffer": int(tensor.buffer)}
            for s, subgraph in enumerate(obj.subgraphs)
            for index, tensor in enumerate(subgraph.tensors or []) if _has_data(obj, tensor)]


def _quantization_bytes(tensor: schema.TensorT) -> int:
    """Bytes of a tensor's quantization arrays as stored: float32 scales (and min/max), int64
    zero points (the schema's `[long]`)."""
    q = tensor.quantization
    if q is None:
        return 0
    return sum(np.asarray(values).nbytes for values in (q.scale, q.zeroPoint, q.min, q.max)
               if values is not None)


def constant_tensors(model: TFLiteModel) -> list[dict]:
    """One row per tensor with data in the file: "part" ("weights", "biases" or "other
    constants"), "name" ("" once names are stripped), "shape", "type" (e.g. "INT8"), "buffer"
    (its index), "bytes" (its data), "scales" (how many quantization scales it stores) and
    "quantization_bytes" (its scales and zero points as stored).

    A weight is a tensor an operator reads as its weight (filter) input: input 1 of CONV_2D,
    DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV, ..., directly or through DEQUANTIZE.
    Taught in notebook 04, §5 (Exercise 4.3)."""
    return _constant_tensors(read_model(model))


def _constant_tensors(obj: schema.ModelT) -> list[dict]:
    """`constant_tensors` of an already parsed model."""
    rows = []
    for place in _constant_rows(obj):
        tensor = obj.subgraphs[place["subgraph"]].tensors[place["index"]]
        q = tensor.quantization
        rows.append({"part": place["part"],
                     "name": tensor.name.decode() if tensor.name is not None else "",
                     "shape": tuple(int(d) for d in tensor.shape or ()),
                     "type": type_name(tensor.type),
                     "buffer": place["buffer"],
                     "bytes": len(obj.buffers[place["buffer"]].data),
                     "scales": 0 if q is None or q.scale is None else len(q.scale),
                     "quantization_bytes": _quantization_bytes(tensor)})
    return rows


def stored_values(data: bytes, type_name: str, size: int) -> np.ndarray | None:
    """The numbers a buffer stores, flat: INT4 holds two signed 4-bit codes per byte (low
    nibble first), the other types one value each; None for a type NumPy cannot read."""
    if type_name == "INT4":
        packed = np.frombuffer(bytes(data), dtype=np.uint8)
        nibbles = np.stack([packed & 0x0F, packed >> 4], axis=1).ravel()[:size].astype(np.int8)
        return np.where(nibbles > 7, nibbles - 16, nibbles).astype(np.int8)
    dtype = _DTYPES.get(type_name)
    return None if dtype is None else np.frombuffer(bytes(data), dtype=dtype)[:size]


def tensor_values(model: TFLiteModel) -> list[dict]:
    """`constant_tensors`' rows, each with "values": the numbers its buffer stores, flat (int4
    codes unpacked, see `stored_values`), or None for a type NumPy cannot read."""
    obj = read_model(model)
    return [row | {"values": stored_values(obj.buffers[row["buffer"]].data, row["type"],
                                           math.prod(row["shape"]))}
            for row in _constant_tensors(obj)]


def weight_sparsity(model: TFLiteModel) -> float:
    """Fraction of zeros among the codes of a .tflite's int8 weight tensors (see
    `constant_tensors` for which tensors are weights).

    Taught in notebook 04, §8."""
    weights = [row["values"] for row in tensor_values(model)
               if row["part"] == "weights" and row["type"] == "INT8"]
    if not weights:
        raise ValueError("model has no int8 weight tensors: convert it with optimization='int8'")
    return sum(int(np.count_nonzero(v == 0)) for v in weights) / sum(v.size for v in weights)


def most_codes_per_channel(model: TFLiteModel) -> int:
    """The largest number of distinct nonzero codes in any output channel of a .tflite's int8 weight
    tensors: at most k after clustering to k centroids per layer (per-channel scales map each centroid
    to one code per channel), up to 255 otherwise."""
    weights = [row for row in tensor_values(model) if row["part"] == "weights" and row["type"] == "INT8"]
    if not weights:
        raise ValueError("model has no int8 weight tensors: convert it with optimization='int8'")
    return max(len(np.unique(channel[channel != 0]))
               for row in weights for channel in row["values"].reshape(row["shape"][0], -1))


def tensor_bytes(model: TFLiteModel) -> dict[str, int]:
    """The data of a .tflite's tensors, in bytes as stored, without the flatbuffer around it:
    "weights" (the kernels' buffers), "biases", "quantization" (the scales and zero points of
    the kernels and biases), "other constants", and "activation quantization" (the scales and
    zero points of every other tensor). Taught in notebook 04, §5 (Exercise 4.3)."""
    obj = read_model(model)
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


def _drop_buffers(indices: list[int]):
    def change(obj: schema.ModelT) -> None:
        for index in indices:
            obj.buffers[index].data = None
    return change


def _drop_quantization(obj: schema.ModelT) -> None:
    for subgraph in obj.subgraphs:
        for tensor in subgraph.tensors:
            tensor.quantization = None


def _drop_operators(obj: schema.ModelT) -> None:
    for subgraph in obj.subgraphs:
        subgraph.operators = None
    obj.operatorCodes = None


def _drop_metadata(obj: schema.ModelT) -> None:
    for entry in obj.metadata or []:
        obj.buffers[entry.buffer].data = None
    obj.metadata = None
    obj.metadataBuffer = None


def byte_breakdown(model: TFLiteModel) -> list[dict]:
    """Where the bytes of a .tflite go: one row per part of PARTS with "part", "bytes" (what
    removing that part from the file saves) and "share" of the file; "rest of the flatbuffer"
    (tensor shapes and types, tables, offsets, alignment) is what the others leave, so the rows
    add up to the file's size; "gzipped_bytes" is the same measurement after gzip -9 (the rows
    add up to the gzipped file's size).

    Each part is measured by removing it and re-packing the flatbuffer. (LiteRT's reader also
    drops the converter's empty buffers; what they took counts as rest of the flatbuffer.)
    Taught in notebook 04, §5."""
    import gzip

    data = read_tflite(model)
    parsed = read_model(data)
    repacked = _pack(parsed)
    zipped = {}  # the same measurement after gzip -9 (each row's "gzipped_bytes")

    def without(change, part) -> int:
        obj = read_model(data)
        change(obj)
        packed = _pack(obj)
        zipped[part] = len(gzip.compress(bytes(repacked), 9)) - len(gzip.compress(bytes(packed), 9))
        return len(repacked) - len(packed)

    saved = {part: without(_drop_buffers(indices), part)
             for part, indices in _constant_buffers(parsed).items()}
    saved["quantization parameters"] = without(_drop_quantization, "quantization parameters")
    saved["tensor names"] = without(flatbuffer_utils.strip_strings, "tensor names")
    saved["operators"] = without(_drop_operators, "operators")
    saved["metadata"] = without(_drop_metadata, "metadata")
    saved["rest of the flatbuffer"] = len(data) - sum(saved.values())
    zipped["rest of the flatbuffer"] = len(gzip.compress(data, 9)) - sum(zipped.values())
    return [{"part": part, "bytes": saved[part], "share": saved[part] / len(data),
             "gzipped_bytes": zipped.get(part, 0)} for part in PARTS]
