"""Seeding, run-size settings and a compile-and-fit helper with the course's defaults.

tf_keras and TensorFlow load only when a function needs them, so `as_float` and the run-size
settings serve the Keras 3 path (notebook 06) without legacy Keras."""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING

import numpy as np

from helpers._validate import fraction, integer, number, positive_int

if TYPE_CHECKING:
    import tf_keras as keras

DEFAULT_SEED = 42


def set_seed(seed: int = DEFAULT_SEED) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow ops deterministic."""
    from helpers import keras, tf

    seed = integer("seed", seed, low=0)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def quick_run() -> bool:
    """True when COURSE_QUICK=1 asks for shorter runs (fewer epochs), e.g. on a slow laptop."""
    return os.environ.get("COURSE_QUICK", "0") not in ("", "0", "false", "False")


def run_size(full, quick):
    """Return `full` normally, or `quick` when COURSE_QUICK=1 asks for a short run.

    Use it for every setting that costs time: epochs, number of images, grid points, trials.
    """
    return quick if quick_run() else full


def compile_model(model: keras.Model,
                  learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3
                  ) -> keras.Model:
    """Compile with Adam (`learning_rate`: a number, or a Keras schedule of it), cross-entropy on
    logits, and accuracy; return the model. The one compile call of the course's helpers."""
    from helpers import keras

    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = number("learning_rate", learning_rate, low=0, low_open=True)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def fit(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int = 5,
    batch_size: int = 128,
    validation_split: float = 0.1,
    learning_rate: float = 1e-3,
    callbacks: list | None = None,
    verbose: int | str = "auto",
) -> keras.callbacks.History:
    """Compile `model` (Adam, logits cross-entropy, accuracy) and fit it, showing Keras' progress bar.

    Images are scaled to [0, 1] here if they arrive as uint8, so callers may pass raw MNIST.

    Taught in notebook 01, §5.
    """
    positive_int("epochs", epochs)
    fraction("validation_split", validation_split)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    compile_model(model, learning_rate)
    return model.fit(
        as_float(x), y, epochs=epochs, batch_size=batch_size, validation_split=validation_split,
        callbacks=callbacks or [], verbose=verbose,
    )


def as_float(images: np.ndarray) -> np.ndarray:
    """Return images as float32 in [0, 1]; uint8 input is divided by 255, float passes through.

    Taught in notebook 04, §1.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(f"images must be uint8 or floating point, got dtype {images.dtype}")
    return images.astype(np.float32, copy=False)
