"""Pruning from scratch: the NumPy masks of `helpers.masks` (magnitude, global, n:m; imported
here under their usual names), neuron and channel scores, genuinely smaller models, and masked
fine-tuning of tf_keras models."""

from __future__ import annotations

import numpy as np

from helpers import keras
from helpers._validate import integer
from helpers.masks import (  # noqa: F401  (the notebooks and tests call them from here)
    SPARSE_FORMATS,
    allocate_sparsities,
    as_weights,
    global_magnitude_masks,
    magnitude_mask,
    magnitude_prune,
    magnitude_threshold,
    nm_mask,
    predicted_drop,
    prune_count,
    satisfies_nm,
    sparse_format_bytes,
    validate_sparsity,
)

# --- neuron (structured) pruning --------------------------------------------------------------

def _activations(activations) -> np.ndarray:
    return as_weights(activations, "activations", 2, "(samples, units)")


def mean_activation(activations) -> np.ndarray:
    """Mean activation of each unit over the samples; a low mean suggests an unimportant neuron.

    Taught in notebook 02, §5.
    """
    return _activations(activations).mean(axis=0)


def apoz(activations) -> np.ndarray:
    """Average Percentage of Zeros: fraction of samples on which each unit outputs exactly 0.

    Hu et al. (2016): a ReLU neuron that is almost always zero contributes little, so a HIGH
    APoZ marks a neuron to remove (the opposite direction of the other scores).

    Taught in notebook 02, §5.
    """
    return (_activations(activations) == 0).mean(axis=0)


def weight_norm_scores(kernel, order: int = 2) -> np.ndarray:
    """Norm of each unit's incoming weights (a column of a Dense kernel): a data-free score.

    Taught in notebook 02, §5.
    """
    array = as_weights(kernel, "kernel", 2, "(inputs, units)")
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    return np.linalg.norm(array.astype(np.float64), ord=order, axis=0)


def units_to_keep(scores, n_remove: int) -> np.ndarray:
    """Sorted indices of the units to keep after removing the `n_remove` lowest `scores`.

    Ties go to the lower index (it is removed first), so the choice is deterministic. For APoZ,
    where high is bad, pass `-apoz(...)`.

    Taught in notebook 02, §5.
    """
    scores = as_weights(scores, "scores", 1, "(one per unit)")
    n_remove = integer("n_remove", n_remove, 0, scores.size - 1, hint="at least one unit must stay")
    removed = np.argsort(scores, kind="stable")[:n_remove]
    return np.setdiff1d(np.arange(scores.size), removed)


def layer_outputs(model, layer_name: str, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Outputs (activations) of the layer `layer_name` of a Keras model for `images`."""
    from helpers.training import as_float

    layer = model.get_layer(layer_name)  # raises ValueError naming the layer if absent
    probe = keras.Model(model.inputs, layer.output)
    return probe.predict(as_float(images), batch_size=batch_size, verbose=0)


def _find_layer(model, layer_name: str):
    """(index, layer) of the layer named `layer_name`; ValueError naming the model's layers."""
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        raise ValueError(f"layer_name {layer_name!r} is not in the model; layers: {names}")
    index = names.index(layer_name)
    return index, model.layers[index]


def remove_dense_units(model, layer_name: str, keep) -> keras.Sequential:
    """A genuinely smaller copy of a Sequential model: Dense `layer_name` keeps only units `keep`.

    The kernel columns and biases of `layer_name` and the matching kernel rows of the next Dense
    layer are kept; weight-free layers in between (Dropout, Activation) pass through. Other
    weights are copied unchanged. The new model is not compiled.

    Taught in notebook 02, §5 "A genuinely smaller model".
    """
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"model must be a tf_keras Sequential model, got {type(model).__name__}")
    index, layer = _find_layer(model, layer_name)
    if not isinstance(layer, keras.layers.Dense):
        raise ValueError(f"layer {layer_name!r} must be Dense, got {type(layer).__name__}")
    following = [i for i in range(index + 1, len(model.layers)) if model.layers[i].weights]
    if not following or not isinstance(model.layers[following[0]], keras.layers.Dense):
        raise ValueError(f"layer {layer_name!r} must be followed by a Dense layer "
                         "(only weight-free "
                         "layers such as Dropout in between)")
    keep = np.asarray(keep)
    if keep.ndim != 1 or keep.size == 0 or not np.issubdtype(keep.dtype, np.integer) \
            or len(np.unique(keep)) != keep.size or keep.min() < 0 or keep.max() >= layer.units:
        raise ValueError(f"keep must be distinct unit indices in [0, {layer.units - 1}] "
                         f"(at least one), got {keep!r}")
    keep = np.sort(keep)
    config = model.get_config()
    for entry in config["layers"]:
        if entry["config"].get("name") == layer_name:
            entry["config"]["units"] = int(keep.size)
    smaller = keras.Sequential.from_config(config)
    for i, (old, new) in enumerate(zip(model.layers, smaller.layers, strict=True)):
        weights = old.get_weights()
        if i == index:
            weights = [weights[0][:, keep], *[w[keep] for w in weights[1:]]]
        elif i == following[0]:
            weights = [weights[0][keep, :], *weights[1:]]
        new.set_weights(weights)
    return smaller


# --- channel (filter) pruning of convolutions ------------------------------------------------

# Layers that may sit between a pruned Conv2D and the next weighted layer: they act on each
# channel separately, so removing a channel removes it from their output too.
CHANNELWISE_LAYERS = ("MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D",
                      "GlobalAveragePooling2D", "Dropout", "SpatialDropout2D", "Activation",
                      "ReLU", "LeakyReLU", "ZeroPadding2D", "BatchNormalization", "Flatten")


def filter_l1_norms(kernel) -> np.ndarray:
    """L1 norm of each output filter of a Conv2D kernel (kh, kw, in, out): a data-free score.

    Taught in notebook 02, §9.
    """
    array = as_weights(kernel, "kernel", 4, "(kh, kw, in_channels, filters)")
    return np.abs(array.astype(np.float64)).sum(axis=(0, 1, 2))


def _validate_keep(keep, filters: int) -> np.ndarray:
    array = np.asarray(keep)
    if array.ndim != 1 or array.size == 0 or not (np.issubdtype(array.dtype, np.integer)
                                                  and array.dtype != bool):
        raise ValueError(f"keep must be a non-empty 1-D list of int filter indices in "
                         f"[0, {filters - 1}], got {keep!r}")
    if array.min() < 0 or array.max() >= filters:
        raise ValueError(f"keep must hold filter indices in [0, {filters - 1}] (the layer has "
                         f"{filters} filters), got {sorted(array.tolist())}")
    if len(np.unique(array)) != array.size:
        raise ValueError(f"keep must not repeat an index, got {sorted(array.tolist())}")
    return np.sort(array)


def remove_conv_filters(model, layer_name: str, keep) -> keras.Model:
    """A genuinely smaller copy of a model: Conv2D `layer_name` keeps only the filters `keep`.

    The kept filters' kernel slices and biases are copied, and so are the matching input
    channels of the next weighted layer: the input axis of the next Conv2D's kernel, or, when
    a Flatten comes first, the rows of the next Dense kernel that read those channels. Channel-wise
    layers in between (pooling, dropout, activations, BatchNormalization, padding) follow along.
    The original model is untouched; the new one (same class: Sequential or functional) is not
    compiled. Only channels-last, ungrouped Conv2D layers are supported.

    Taught in notebook 02, §9.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a tf_keras Model, got {type(model).__name__}")
    if not isinstance(layer_name, str):
        raise TypeError(f"layer_name must be a str, got {type(layer_name).__name__}")
    index, layer = _find_layer(model, layer_name)
    if type(layer) is not keras.layers.Conv2D:
        raise TypeError(f"layer {layer_name!r} must be a Conv2D layer, got {type(layer).__name__}")
    if layer.data_format != "channels_last" or layer.groups != 1:
        raise ValueError(f"layer {layer_name!r} must be channels_last with groups=1")
    keep = _validate_keep(keep, layer.filters)
    if not isinstance(model, keras.Sequential) and len(layer.outbound_nodes) > 1:
        raise ValueError(f"layer {layer_name!r} feeds several layers; only a chain is supported")

    # Walk the chain after the convolution to the next layer with weights.
    between, flatten_shape, following = [], None, None
    for later in model.layers[index + 1:]:
        kind = type(later).__name__
        if kind == "Flatten":
            flatten_shape = tuple(later.input_shape[1:])
        if kind in CHANNELWISE_LAYERS:
            if kind == "BatchNormalization":
                between.append(later)
            continue
        following = later
        break
    if following is None or type(following) not in (keras.layers.Conv2D, keras.layers.Dense):
        found = "nothing" if following is None else type(following).__name__
        raise ValueError(f"layer {layer_name!r} must be followed by a Conv2D or a Dense layer "
                         f"(channel-wise layers such as pooling in between), found {found}")
    if isinstance(following, keras.layers.Conv2D) and \
            (following.data_format != "channels_last" or following.groups != 1):
        raise ValueError(f"the next layer {following.name!r} must be channels_last with groups=1")

    config = model.get_config()
    for entry in config["layers"]:
        if entry["config"].get("name") == layer_name:
            entry["config"]["filters"] = int(keep.size)
    cls = type(model) if isinstance(model, keras.Sequential) else keras.Model
    smaller = cls.from_config(config)

    if flatten_shape is not None:  # Flatten (channels last): row r reads channel r % channels
        channels = flatten_shape[-1]
        rows = np.flatnonzero(np.isin(np.arange(int(np.prod(flatten_shape))) % channels, keep))
    else:
        rows = keep
    for old in model.layers:
        weights = old.get_weights()
        if old is layer:
            weights = [weights[0][..., keep], *[w[keep] for w in weights[1:]]]
        elif old is following and isinstance(old, keras.layers.Conv2D):
            weights = [weights[0][:, :, keep, :], *weights[1:]]
        elif old is following:
            weights = [weights[0][rows, :], *weights[1:]]
        elif any(old is bn for bn in between):
            weights = [w[keep] for w in weights]
        smaller.get_layer(old.name).set_weights(weights)
    return smaller


# --- masked fine-tuning -----------------------------------------------------------------------

def apply_masks(model, masks: dict) -> None:
    """Multiply the kernel of each named layer by its 0/1 mask: {layer_name: keep_mask}.

    Taught in notebook 02, §4.
    """
    if not isinstance(masks, dict):
        raise TypeError("masks must be a dict {layer_name: keep_mask}, "
                        f"got {type(masks).__name__}")
    for name, mask in masks.items():
        kernel = model.get_layer(name).kernel
        if tuple(np.shape(mask)) != tuple(kernel.shape):
            raise ValueError(f"mask for layer {name!r} has shape {np.shape(mask)}, but its kernel "
                             f"has shape {tuple(kernel.shape)}")
        kernel.assign(kernel * np.asarray(mask, dtype=kernel.dtype.as_numpy_dtype))


class KeepMasks(keras.callbacks.Callback):
    """Keras callback that re-applies pruning masks after every batch (masked fine-tuning).

    Taught in notebook 02, §4.
    """

    def __init__(self, masks: dict):
        super().__init__()
        if not isinstance(masks, dict):
            raise TypeError("masks must be a dict {layer_name: keep_mask}, "
                            f"got {type(masks).__name__}")
        self.masks = masks

    def on_train_batch_end(self, batch, logs=None):
        apply_masks(self.model, self.masks)

