"""Small plotting helpers with labelled axes and units."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_parameters_per_layer(model, ax=None):
    """Bar chart of how many parameters each layer holds (weights and biases stacked)."""
    from helpers.metrics import _require_model

    _require_model(model)
    names, kernels, biases = [], [], []
    for layer in model.layers:
        sizes = [int(np.prod(w.shape)) for w in layer.weights]
        if sizes:
            names.append(layer.name)
            kernels.append(sum(sizes) - (sizes[-1] if len(sizes) > 1 else 0))
            biases.append(sizes[-1] if len(sizes) > 1 else 0)
    ax = ax or plt.subplots(figsize=(6, 3))[1]
    ax.bar(names, kernels, label="weights (kernel)")
    ax.bar(names, biases, bottom=kernels, label="biases")
    total = sum(kernels) + sum(biases)
    for i, (k, b) in enumerate(zip(kernels, biases, strict=True)):
        ax.annotate(f"{k + b:,}\n({(k + b) / total:.1%})", (i, k + b), ha="center", va="bottom")
    ax.set_ylabel("parameters (count)")
    ax.set_xlabel("layer")
    ax.set_title(f"Where the {total:,} parameters of '{model.name}' live")
    ax.set_ylim(0, max(kernels[i] + biases[i] for i in range(len(names))) * 1.3)
    ax.legend()
    return ax


def plot_history(history, ax=None):
    """Training and validation accuracy per epoch from a Keras History."""
    ax = ax or plt.subplots(figsize=(5, 3))[1]
    epochs = np.arange(1, len(history.history["accuracy"]) + 1)
    ax.plot(epochs, history.history["accuracy"], "o-", label="training")
    if "val_accuracy" in history.history:
        ax.plot(epochs, history.history["val_accuracy"], "s-", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (fraction correct)")
    ax.set_xticks(epochs)
    ax.legend()
    return ax


def plot_weight_histogram(weights: np.ndarray, ax=None, bins: int = 100, label: str | None = None,
                          log: bool = True):
    """Histogram of weight values (log count axis, so small bars stay visible)."""
    values = np.ravel(np.asarray(weights))
    ax = ax or plt.subplots(figsize=(5, 3))[1]
    ax.hist(values, bins=bins, log=log, alpha=0.7, label=label)
    ax.set_xlabel("weight value")
    ax.set_ylabel("count" + (" (log scale)" if log else ""))
    if label:
        ax.legend()
    return ax


def plot_size_vs_accuracy(points: list[dict], ax=None, reference: list[dict] | None = None):
    """Scatter of gzipped size (log x axis, bytes) against accuracy, one labelled point per model.

    Each point is a dict with keys "name", "gzipped_bytes" and "accuracy" (a fraction).
    """
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    for group, marker, color in ((points, "o", "C0"), (reference or [], "*", "C3")):
        for p in group:
            ax.scatter(p["gzipped_bytes"], 100 * p["accuracy"], marker=marker, color=color, s=60)
            ax.annotate(p["name"], (p["gzipped_bytes"], 100 * p["accuracy"]),
                        textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("gzipped size (bytes, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(True, which="both", alpha=0.3)
    return ax
