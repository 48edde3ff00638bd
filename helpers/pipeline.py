"""The prune -> pruning-preserving QAT pipeline with TFMOT, one small step per function, and
notebook 04's whole recipe in one call (`train_record_model`)."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from helpers import keras
from helpers._validate import fraction, integer, number, positive_int
from helpers.metrics import file_size, gzipped_size
from helpers.tflite_anatomy import weight_sparsity as tflite_weight_sparsity  # noqa: F401

PRUNABLE_LAYERS = (keras.layers.Conv2D, keras.layers.Dense)


def _tfmot():
    import tensorflow_model_optimization as tfmot

    return tfmot


def _check_model(model) -> None:
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a tf_keras Model (build it with helpers.keras), "
                        f"got {type(model).__name__}")


def steps_per_epoch(n_examples: int, batch_size: int, validation_split: float = 0.0) -> int:
    """Optimizer steps in one epoch of `model.fit` (Keras keeps the first 1 - split of the data,
    and runs a last, smaller batch). Taught in notebook 04, §4.1 (Exercise 4.1)."""
    positive_int("n_examples", n_examples)
    positive_int("batch_size", batch_size)
    fraction("validation_split", validation_split)
    return math.ceil(int(n_examples * (1.0 - validation_split)) / batch_size)


def polynomial_schedule(final_sparsity: float, end_step: int, initial_sparsity: float = 0.0,
                        begin_step: int = 0, frequency: int = 100):
    """TFMOT's PolynomialDecay: sparsity grows from initial to final between begin and end step.

    Taught in notebook 04, §4 (4.1).
    """
    number("final_sparsity", final_sparsity, 0, 1, low_open=True, high_open=True)
    number("initial_sparsity", initial_sparsity, 0, final_sparsity, hint="up to final_sparsity")
    begin_step = integer("begin_step", begin_step, low=0)
    positive_int("frequency", frequency)
    integer("end_step", end_step, low=begin_step + 1, hint=f"after begin_step={begin_step}")
    return _tfmot().sparsity.keras.PolynomialDecay(
        initial_sparsity=initial_sparsity, final_sparsity=final_sparsity,
        begin_step=begin_step, end_step=end_step, frequency=frequency)


def prune_model(model, schedule, skip: tuple[str, ...] | list[str] = (),
                per_layer: dict | None = None):
    """Return a copy of `model` with every Conv2D and Dense layer, except those named in `skip`,
    wrapped for magnitude pruning with `schedule` (or `per_layer[name]` where given).
    Train it with the `UpdatePruningStep` callback.

    Taught in notebook 04, §4 (4.1).
    """
    _check_model(model)
    per_layer = dict(per_layer or {})
    names = {layer.name for layer in model.layers}
    for argument, given in (("skip", set(skip)), ("per_layer", set(per_layer))):
        unknown = sorted(given - names)
        if unknown:
            raise ValueError(f"{argument} names layers the model lacks: {unknown}; its layers "
                             f"are {sorted(names)}")
    sparsity = _tfmot().sparsity.keras

    def wrap(layer):
        fresh = layer.__class__.from_config(layer.get_config())  # leave `model` untouched
        if isinstance(layer, PRUNABLE_LAYERS) and layer.name not in skip:
            chosen = per_layer.get(layer.name, schedule)
            return sparsity.prune_low_magnitude(fresh, pruning_schedule=chosen)
        return fresh

    pruned = keras.models.clone_model(model, clone_function=wrap)
    _copy_weights(model, pruned)
    return pruned


def _copy_weights(source, target) -> None:
    """Copy each layer's weights into the matching (possibly wrapped) layer of `target`."""
    for old, new in zip(source.layers, target.layers, strict=True):
        inner = getattr(new, "layer", new)
        inner.set_weights(old.get_weights())


def is_pruning_wrapped(model) -> bool:
    """True if any layer of `model` is still a TFMOT pruning wrapper (strip_pruning not applied)."""
    _check_model(model)
    return any(type(layer).__name__ == "PruneLowMagnitude" for layer in model.layers)


def _require_stripped(model, name: str) -> None:
    """ValueError unless `model` is a Keras model without pruning wrappers (ready for QAT)."""
    if is_pruning_wrapped(model):
        raise ValueError(f"{name} still has pruning wrappers: call "
                         "tfmot.sparsity.keras.strip_pruning(model) before quantization")


def prune_preserving_qat(model):
    """Wrap a pruned and *stripped* model for quantization-aware training that keeps its zeros
    (quantize_annotate_model + quantize_apply with Default8BitPrunePreserveQuantizeScheme).
    Taught in notebook 04, §4.3 (Exercise 4.2)."""
    _require_stripped(model, "model")
    return _quantize_with(model, _tfmot().experimental.combine.Default8BitPrunePreserveQuantizeScheme())


def _quantize_with(model, scheme):
    """TFMOT's QAT wrapping of every layer of `model` (quantize_annotate_model + quantize_apply) with `scheme`."""
    keras_quantization = _tfmot().quantization.keras
    return keras_quantization.quantize_apply(keras_quantization.quantize_annotate_model(model), scheme)


def cluster_and_fit(stripped, x, y, clusters: int, epochs: int, learning_rate: float, skip=(),
                    batch_size: int = 128, validation_split: float = 0.1, augment: dict | None = None,
                    seed: int = 0, verbose: int = 2):
    """Tie each weight of every Conv2D and Dense layer (except those in `skip`) of a pruned, stripped
    model to one of `clusters` centroids per layer (TFMOT's sparsity-preserving clustering: the
    zeros stay zero, k-means++ centroids), fine-tune, and return the model with the clustering
    wrappers stripped: plain layers whose kernels hold at most `clusters` distinct nonzero values.

    The first step of TFMOT's PCQAT pipeline (its guide's "sparsity preserving clustering")."""
    _require_stripped(stripped, "stripped")
    positive_int("clusters", clusters)
    clustering = _tfmot().clustering.keras
    settings = dict(number_of_clusters=clusters, preserve_sparsity=True,
                    cluster_centroids_init=clustering.CentroidInitialization.KMEANS_PLUS_PLUS)

    def wrap(layer):
        if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense) and layer.name not in skip:
            return clustering.cluster_weights(layer, **settings)
        return layer

    base = keras.models.clone_model(stripped)  # a copy: the wrappers take over their layers' kernels
    base.set_weights(stripped.get_weights())
    clustered = keras.models.clone_model(base, clone_function=wrap)  # wraps base's trained layers
    fit_cosine(clustered, x, y, epochs, learning_rate, batch_size, validation_split, augment, seed=seed,
               verbose=verbose)
    return clustering.strip_clustering(clustered)


def pcqat_model(clustered):
    """Wrap a pruned, clustered and stripped model for quantization-aware training that keeps both
    its zeros and its clusters (TFMOT's PCQAT: Default8BitClusterPreserveQuantizeScheme with
    preserve_sparsity=True)."""
    _require_stripped(clustered, "clustered")
    scheme = _tfmot().experimental.combine.Default8BitClusterPreserveQuantizeScheme(preserve_sparsity=True)
    return _quantize_with(clustered, scheme)


def stage_record(name: str, path: str | os.PathLike, accuracy: float, nonzero_params: int,
                 latency_us: float, root: str | os.PathLike | None = None,
                 memory: dict | None = None) -> dict:
    """One row of a stage table: the file (relative to `root`), its raw and gzipped bytes,
    accuracy (fraction), nonzero parameters and LiteRT latency (µs per image); with `memory`
    (from `device_memory`), also the flash and tensor-arena bytes and where the arena was
    measured."""
    path = Path(path)
    number("accuracy", accuracy, 0, 1, hint="a fraction")
    integer("nonzero_params", nonzero_params, low=0)
    number("latency_us", latency_us, low=0, low_open=True)
    if memory is not None and not {"flash_bytes", "arena_bytes", "arena_source"} <= set(memory):
        raise ValueError(f"memory must come from pipeline.device_memory(), got keys {sorted(memory)}")
    file = path.relative_to(root).as_posix() if root is not None else path.name
    return {
        "stage": name,
        "file": file,
        "accuracy": float(accuracy),
        "nonzero_params": nonzero_params,
        "bytes": file_size(path),
        "gzipped_bytes": gzipped_size(path),
        "latency_us": float(latency_us),
        **({key: memory[key] for key in ("flash_bytes", "arena_bytes", "arena_source", "tflm_error")
            if key in memory} if memory is not None else {}),
    }


def litert_arena_bytes(model) -> int:
    """The memory LiteRT's own planner gives the non-constant tensors of `model` (the built-in
    kernels, no delegate): the span from the lowest to the highest address of its activations
    and scratch buffers, read after allocate_tensors (notebook 05, §2 teaches the method), summed
    over LiteRT's separate arenas (tensors more than 4 KiB apart), e.g. weights that a DEQUANTIZE
    expands once into a persistent float32 buffer."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from helpers.deploy import read_tflite

    interpreter = Interpreter(model_content=read_tflite(model), num_threads=1,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    ops = interpreter._get_ops_details()
    produced = {int(i) for op in ops for i in op["outputs"]}
    read = {int(i) for op in ops for i in op["inputs"] if i >= 0}
    input_index = interpreter.get_input_details()[0]["index"]
    constants = read - produced - {input_index}
    spans = []
    for tensor in interpreter.get_tensor_details():
        if tensor["index"] in constants or not tensor["shape"].size:
            continue
        try:
            buffer = interpreter.tensor(tensor["index"])()
        except ValueError:  # a tensor without memory of its own
            continue
        if buffer.nbytes:
            spans.append((buffer.ctypes.data, buffer.nbytes))
        del buffer
    spans.sort()
    total, group_start, group_end = 0, spans[0][0], spans[0][0] + spans[0][1]
    for start, size in spans[1:]:  # LiteRT keeps more than one arena (persistent tensors apart)
        if start - group_end > 4096:
            total += group_end - group_start
            group_start, group_end = start, start + size
        else:
            group_end = max(group_end, start + size)
    return total + group_end - group_start


def device_memory(model) -> dict:
    """What a device needs for `model`: flash (the raw .tflite bytes) and RAM (the tensor arena).
    The arena is TFLM's (helpers.micro.arena_bytes, what a microcontroller reserves) when TFLM
    can load the file, else LiteRT's planner (`litert_arena_bytes`); "arena_source" says which,
    and "tflm_error" why TFLM refused."""
    from helpers import micro
    from helpers.deploy import read_tflite

    data = read_tflite(model)
    found = {"flash_bytes": len(data)}
    try:
        return {**found, "arena_bytes": micro.arena_bytes(data)["total"], "arena_source": "TFLM"}
    except (micro.MicroError, ModuleNotFoundError) as error:
        return {**found, "arena_bytes": litert_arena_bytes(data), "arena_source": "LiteRT",
                "tflm_error": str(error).split(" | ")[0]}


def _median_invoke_us(interpreter, runs: int, warmup: int = 20) -> float:
    import numpy as np

    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    for _ in range(warmup):
        interpreter.invoke()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)


def delegated_operators(interpreter) -> tuple[list[str], list[str]]:
    """(operators a delegate took over, operators left to the built-in kernels) of an allocated
    LiteRT interpreter: a node is delegated when its outputs live inside a DELEGATE node (used
    only by delegated nodes, or written out by the delegate) and are not the delegate's inputs."""
    ops = interpreter._get_ops_details()
    delegates = [op for op in ops if op["op_name"] == "DELEGATE"]
    nodes = [op for op in ops if op["op_name"] != "DELEGATE"]
    delegate_in = {int(i) for op in delegates for i in op["inputs"]}
    delegate_out = {int(i) for op in delegates for i in op["outputs"]}
    outputs = {int(d["index"]) for d in interpreter.get_output_details()}
    consumers: dict[int, list[int]] = {}
    for k, op in enumerate(nodes):
        for i in op["inputs"]:
            consumers.setdefault(int(i), []).append(k)
    delegated = [False] * len(nodes)
    for k in reversed(range(len(nodes))):
        if not delegates:
            break
        outs = [int(i) for i in nodes[k]["outputs"]]
        delegated[k] = all(
            t not in delegate_in and (t in delegate_out or (t not in outputs and all(
                delegated[c] for c in consumers.get(t, [])))) for t in outs)
    return ([op["op_name"] for op, d in zip(nodes, delegated, strict=True) if d],
            [op["op_name"] for op, d in zip(nodes, delegated, strict=True) if not d])


def xnnpack_profile(model, runs: int = 300) -> dict:
    """Median µs per invoke of `model` (one thread, a zero input) with LiteRT's default XNNPACK
    delegate and with the built-in kernels only, and which operators XNNPACK took over.
    Taught in notebook 04, §7."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from helpers.deploy import make_interpreter, read_tflite

    runs = positive_int("runs", runs)
    data = read_tflite(model)
    with_xnnpack = make_interpreter(data)
    builtin = Interpreter(model_content=data, num_threads=1,
                          experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    builtin.allocate_tensors()
    taken, left = delegated_operators(with_xnnpack)
    return {"xnnpack_us": _median_invoke_us(with_xnnpack, runs),
            "builtin_us": _median_invoke_us(builtin, runs), "delegated": taken, "not_delegated": left}


def cpu_description() -> str:
    """This machine's CPU in a line: its model name, and which of the vector instruction sets that
    LiteRT's kernels (XNNPACK, ruy) use it has (from /proc/cpuinfo on Linux)."""
    import platform

    name, flags = platform.processor() or platform.machine(), set()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            name = value.strip()
        elif key.strip() in ("flags", "Features"):
            flags |= set(value.split())
    wanted = ("sse4_1", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni",
              "amx_int8", "asimd", "asimddp", "i8mm")
    have = [flag for flag in wanted if flag in flags]
    return f"{name}; {os.cpu_count()} logical CPUs; " + (
        "vector extensions: " + " ".join(have) if have else "no vector flags reported")


# --- notebook 04's recipe, stage by stage and end to end ----------------------------------------

RECORD_RECIPE = {
    "model": {"builder": "build_record_cnn", "kwargs": {"filters": (8, 16, 32)}},
    "batch_size": 128,
    "validation_split": 0.1,
    "augment": None,  # or {"shift_px": ..., "rotation_deg": ...}: random moves while training
    "float": {"epochs": 8, "learning_rate": 3e-3},
    "prune": {"sparsity": 0.70, "skip": ("conv1",), "epochs": 5, "learning_rate": 2e-3,
              "end_fraction": 0.5, "frequency": 100},
    "pqat": {"epochs": 1, "learning_rate": 3e-5},
    "representative_images": 300,
}
QUICK_TRAIN_IMAGES = 6_000  # COURSE_QUICK=1 trains on this many images, one epoch per stage


def record_recipe() -> dict:
    """Notebook 04's recipe, with COURSE_QUICK's shorter settings (helpers.training.run_size)."""
    import copy

    from helpers.training import run_size

    recipe = copy.deepcopy(RECORD_RECIPE)
    for stage in ("float", "prune", "pqat"):
        recipe[stage]["epochs"] = run_size(recipe[stage]["epochs"], 1)
    recipe["prune"]["frequency"] = run_size(recipe["prune"]["frequency"], 10)
    recipe["train_images"] = run_size(None, QUICK_TRAIN_IMAGES)
    return recipe


def build_record_model(recipe: dict | None = None):
    """Build the recipe's (untrained) model with its helpers.models builder."""
    from helpers import models

    spec = (recipe or RECORD_RECIPE)["model"]
    return getattr(models, spec["builder"])(**spec["kwargs"])


def _split(x, y, validation_split: float):
    """Keras' validation_split: the last fraction of the data is held out, before shuffling."""
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    fraction("validation_split", validation_split)
    n_train = int(len(x) * (1.0 - validation_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def augmented_dataset(x, y, batch_size: int, shift_px: float, rotation_deg: float, seed: int = 0):
    """A shuffled tf.data pipeline of batches moved at random by up to `shift_px` pixels and
    turned by up to `rotation_deg` degrees (new each epoch; the images stay (N, 28, 28))."""
    from helpers import tf

    number("shift_px", shift_px, low=0)
    number("rotation_deg", rotation_deg, low=0)
    height, width = x.shape[1:3]
    move = keras.Sequential([
        keras.layers.RandomTranslation(shift_px / height, shift_px / width,
                                       fill_mode="constant", seed=seed),
        keras.layers.RandomRotation(rotation_deg / 360.0, fill_mode="constant", seed=seed + 1),
    ])

    def augment(images, labels):
        return move(images[..., None], training=True)[..., 0], labels

    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(augment, num_parallel_calls=1)
    return dataset.prefetch(2)


def fit_cosine(model, x, y, epochs: int, learning_rate: float, batch_size: int = 128,
               validation_split: float = 0.1, augment: dict | None = None,
               callbacks: list | None = None, alpha: float = 0.05, seed: int = 0,
               verbose: int = 2):
    """Compile `model` with Adam on a cosine-decaying rate (from `learning_rate` to `alpha` times
    it over all steps) and logits cross-entropy, then fit it; return the History.

    Taught in notebook 04, §3.
    """
    from helpers.training import as_float, compile_model

    positive_int("epochs", epochs)
    number("learning_rate", learning_rate, low=0, low_open=True)
    (x_fit, y_fit), validation = _split(as_float(x), y, validation_split)
    steps = steps_per_epoch(len(x_fit), batch_size)
    compile_model(model, keras.optimizers.schedules.CosineDecay(learning_rate, steps * epochs,
                                                                alpha=alpha))
    kwargs = dict(epochs=epochs, callbacks=callbacks or [], verbose=verbose,
                  validation_data=validation if validation_split else None)
    if augment:
        data = augmented_dataset(x_fit, y_fit, batch_size, seed=seed, **augment)
        return model.fit(data, **kwargs)
    return model.fit(x_fit, y_fit, batch_size=batch_size, **kwargs)


def prune_and_fit(model, x, y, sparsity: float, epochs: int, learning_rate: float,
                  skip=(), end_fraction: float = 0.6, frequency: int = 100,
                  batch_size: int = 128, validation_split: float = 0.1,
                  augment: dict | None = None, seed: int = 0, verbose: int = 2,
                  end_step: int | None = None):
    """Prune a copy of `model` to `sparsity` while training it: the schedule reaches the final
    sparsity after `end_fraction` of the steps, or at optimizer step `end_step` when given (it
    then replaces `end_fraction`; notebook 04 passes the step of Exercise 4.1). Returns the
    (still wrapped) pruned model.

    Taught in notebook 04, §4 (4.1).
    """
    number("end_fraction", end_fraction, 0, 1, low_open=True)
    n_fit = int(len(x) * (1.0 - validation_split))
    total = steps_per_epoch(n_fit, batch_size) * epochs
    if end_step is None:
        end_step = max(1, int(total * end_fraction))
    end_step = integer("end_step", end_step, 1, total,
                       hint=f"the optimizer steps of {epochs} epochs at batch {batch_size}")
    schedule = polynomial_schedule(sparsity, end_step=end_step, frequency=frequency)
    pruned = prune_model(model, schedule, skip=skip)
    fit_cosine(pruned, x, y, epochs, learning_rate, batch_size, validation_split, augment,
               callbacks=[_tfmot().sparsity.keras.UpdatePruningStep()], seed=seed,
               verbose=verbose)
    return pruned


def strip_pruning(model):
    """Remove the pruning wrappers (TFMOT's strip_pruning): plain layers with zeros in kernels.

    Taught in notebook 04, §4 (4.2).
    """
    _check_model(model)
    return _tfmot().sparsity.keras.strip_pruning(model)


def pqat_and_fit(stripped, x, y, epochs: int, learning_rate: float, batch_size: int = 128,
                 validation_split: float = 0.1, augment: dict | None = None, seed: int = 0,
                 verbose: int = 2, make_model=None):
    """Pruning-preserving quantization-aware training of a pruned, stripped model; returns it.

    `make_model(stripped)` builds the model to train (default `prune_preserving_qat`; notebook
    04 passes the learner's function of Exercise 4.2).

    Taught in notebook 04, §4 (4.3).
    """
    _require_stripped(stripped, "stripped")
    if make_model is not None and not callable(make_model):
        raise TypeError(f"make_model must be a function of the stripped model, got "
                        f"{type(make_model).__name__}")
    model = (make_model or prune_preserving_qat)(stripped)
    if not isinstance(model, keras.Model):
        raise TypeError(f"make_model must return a tf_keras Model, got {type(model).__name__}")
    fit_cosine(model, x, y, epochs, learning_rate, batch_size, validation_split, augment,
               seed=seed, verbose=verbose)
    return model


def to_tflite_batch_one(model, representative_images=None, converter_options: dict | None = None) -> bytes:
    """Convert a Keras model for one image at a time (batch dimension fixed to 1): float32, or
    full-integer int8 (int8 input and output, like deploy.to_tflite(model, "int8", ...)) when
    `representative_images` are given. A fixed batch spares the operators that compute it.
    `converter_options` sets attributes of the TFLiteConverter first, e.g.
    {"_experimental_disable_per_channel_quantization_for_dense_layers": True}.

    Taught in notebook 04, §5."""
    from helpers import tf
    from helpers.deploy import convert

    _check_model(model)
    shape = [1, *model.input_shape[1:]]
    function = tf.function(lambda images: model(images, training=False),
                           input_signature=[tf.TensorSpec(shape, tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [function.get_concrete_function()], model)
    for key, value in (converter_options or {}).items():
        if not hasattr(converter, key):
            raise ValueError(f"converter_options: the TFLiteConverter has no attribute {key!r}")
        setattr(converter, key, value)
    return convert(converter, None if representative_images is None else "int8",
                   representative_images)


def export_int8(model, representative_images, converter_options: dict | None = None) -> bytes:
    """The record's int8 file: full-integer (int8 input and output), batch of one, tensor names
    stripped (`converter_options` as in to_tflite_batch_one).

    Taught in notebook 04, §5."""
    from helpers.tflite_anatomy import strip_names

    return strip_names(to_tflite_batch_one(model, representative_images, converter_options))


def export_float(model) -> bytes:
    """A float32 file exported like export_int8's: batch of one, tensor names stripped."""
    from helpers.tflite_anatomy import strip_names

    return strip_names(to_tflite_batch_one(model))


def int4_weights(float_tflite: bytes) -> bytes:
    """Weight-only int4 quantization of a float .tflite with ai-edge-quantizer (channelwise
    weights, float activations and compute: `recipe.weight_only_wi4_afp32()`), names stripped.

    Taught in notebook 04, §6."""
    from ai_edge_quantizer import recipe

    from helpers.litert_quantizer import quantize
    from helpers.tflite_anatomy import strip_names

    return strip_names(quantize(float_tflite, recipe.weight_only_wi4_afp32()))


def _measure(path: Path, x_test, y_test) -> dict:
    from helpers.metrics import tflite_accuracy

    data = path.read_bytes()
    return {"file": path.name, "accuracy": tflite_accuracy(data, x_test, y_test),
            "bytes": len(data), "gzipped_bytes": gzipped_size(data)}


def train_record_model(out_dir: str | os.PathLike, seed: int = 42, progress: bool = True) -> dict:
    """Run notebook 04's whole recipe (record_recipe()) from scratch: train, prune, strip, PQAT,
    export the stripped full-int8 model to out_dir/final_model.tflite and the int4-weight model
    to out_dir/final_model_int4.tflite, measure both with LiteRT on the full MNIST test set.

    Returns {"seed", "recipe", "int8": {"file", "accuracy", "bytes", "gzipped_bytes"},
    "ptq_int8": {...}, "int4": {...}, "seconds", "quick_run"}.
    """
    from helpers.data import load_mnist
    from helpers.deploy import save_tflite
    from helpers.training import as_float, quick_run, set_seed

    integer("seed", seed, low=0)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    recipe = record_recipe()
    verbose = 2 if progress else 0
    (x_train, y_train), (x_test, y_test) = load_mnist()
    n = recipe["train_images"] or len(x_train)
    x, y = as_float(x_train[:n]), y_train[:n]
    common = dict(batch_size=recipe["batch_size"], validation_split=recipe["validation_split"],
                  augment=recipe["augment"], seed=seed, verbose=verbose)

    set_seed(seed)
    model = build_record_model(recipe)
    fit_cosine(model, x, y, **recipe["float"], **common)
    pruned = prune_and_fit(model, x, y, **recipe["prune"], **common)
    stripped = strip_pruning(pruned)
    pqat = pqat_and_fit(stripped, x, y, **recipe["pqat"], **common)

    rep = x[:recipe["representative_images"]]
    ptq_path = save_tflite(export_int8(stripped, rep), out_dir / "pruned_ptq_int8.tflite")
    final_path = save_tflite(export_int8(pqat, rep), out_dir / "final_model.tflite")
    int4_path = save_tflite(int4_weights(to_tflite_batch_one(stripped)),
                            out_dir / "final_model_int4.tflite")
    return {
        "seed": seed,
        "quick_run": quick_run(),
        "recipe": recipe,
        "int8": _measure(final_path, x_test, y_test),
        "ptq_int8": _measure(ptq_path, x_test, y_test),
        "int4": _measure(int4_path, x_test, y_test),
        "seconds": round(time.perf_counter() - start, 1),
    }
