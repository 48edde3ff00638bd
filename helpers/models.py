"""The course's model builders (legacy Keras, so TFMOT can wrap them)."""

from __future__ import annotations

from helpers import keras
from helpers._validate import fraction, integer, positive_int


def build_mlp(hidden_units: int = 128, dropout: float = 0.2, name: str = "mlp") -> keras.Model:
    """The article's MLP: Flatten -> Dense(hidden, relu) -> Dropout -> Dense(10) logits.

    Taught in notebook 01, §4.
    """
    positive_int("hidden_units", hidden_units)
    fraction("dropout", dropout)
    return keras.Sequential(
        [
            keras.layers.Flatten(input_shape=(28, 28), name="flatten"),
            keras.layers.Dense(hidden_units, activation="relu", name="hidden"),
            keras.layers.Dropout(dropout, name="dropout"),
            keras.layers.Dense(10, name="logits"),
        ],
        name=name,
    )


def build_cnn(filters: int = 12, dense_units: int = 0, name: str = "cnn") -> keras.Model:
    """A small CNN: Reshape -> Conv(filters, 3x3) -> MaxPool -> [Dense] -> Dense(10) logits.

    With the defaults this is the model of TFMOT's "Pruning in Keras" tutorial.
    """
    positive_int("filters", filters)
    integer("dense_units", dense_units, low=0)
    layers = [
        keras.layers.Reshape((28, 28, 1), input_shape=(28, 28), name="reshape"),
        keras.layers.Conv2D(filters, 3, activation="relu", name="conv"),
        keras.layers.MaxPooling2D(2, name="pool"),
        keras.layers.Flatten(name="flatten"),
    ]
    if dense_units:
        layers.append(keras.layers.Dense(dense_units, activation="relu", name="hidden"))
    layers.append(keras.layers.Dense(10, name="logits"))
    return keras.Sequential(layers, name=name)


def build_project_cnn(f1: int = 16, f2: int = 32) -> keras.Model:
    """Notebook 04's first design: two conv + max-pool stages and a linear classifier (logits)."""
    positive_int("f1", f1)
    positive_int("f2", f2)
    layers = keras.layers
    return keras.Sequential([
        layers.Reshape((28, 28, 1), input_shape=(28, 28), name="reshape"),
        layers.Conv2D(f1, 3, activation="relu", name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(f2, 3, activation="relu", name="conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(10, name="logits"),
    ], name="project_cnn")


def build_record_cnn(filters: tuple[int, int, int] = (8, 16, 32)) -> keras.Model:
    """Notebook 04's record design: three stages of conv 3x3 (same padding) + batch norm + ReLU
    + max-pool 2x2 (28 -> 14 -> 7 -> 3 pixels), then Flatten and a linear classifier (logits).

    Taught in notebook 04, §3.
    """
    if not isinstance(filters, tuple | list) or len(filters) != 3:
        raise ValueError(f"filters must be three channel counts, got {filters!r}")
    for i, value in enumerate(filters):
        positive_int(f"filters[{i}]", value)
    layers = keras.layers
    stack = [layers.Reshape((28, 28, 1), input_shape=(28, 28), name="reshape")]
    for i, channels in enumerate(filters, start=1):
        stack += [
            layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"conv{i}"),
            layers.BatchNormalization(name=f"bn{i}"),
            layers.ReLU(name=f"relu{i}"),
            layers.MaxPooling2D(2, name=f"pool{i}"),
        ]
    stack += [layers.Flatten(name="flatten"), layers.Dense(10, name="logits")]
    return keras.Sequential(stack, name="record_cnn")


ARTICLE_MLP_TRAINING = {"epochs": 5, "batch_size": 32, "learning_rate": 1e-3,
                        "validation_split": 0.1, "seed": 42}


def train_article_mlp(x_train, y_train, verbose: int | str = 2):
    """Build and train the article's MLP the one way the course does everywhere
    (ARTICLE_MLP_TRAINING: Adam 0.001, 5 epochs at Keras' default batch of 32, the last 10% of
    the training images held out, seed 42; 1 epoch under COURSE_QUICK=1).
    Returns (model, history).

    Taught in notebook 01, §5.
    """
    from helpers import training

    settings = ARTICLE_MLP_TRAINING
    training.set_seed(settings["seed"])
    model = build_mlp()
    history = training.fit(
        model, x_train, y_train, epochs=training.run_size(settings["epochs"], 1),
        batch_size=settings["batch_size"], validation_split=settings["validation_split"],
        learning_rate=settings["learning_rate"], verbose=verbose)
    return model, history
