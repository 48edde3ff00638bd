"""Multi-objective hyperparameter search for compression with Optuna (notebook 05, section 3).

An honest objective (trials are scored on a validation split carved from the *training* images;
the test set is never loaded here), cheap trials (base models trained once and cached on disk),
and studies kept in a storage that several worker processes can share: a journal file on one
machine, or a PostgreSQL/MySQL URL for many machines.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers._validate import integer, positive_int

# The search space: what each trial chooses.
FILTERS = (4, 8, 12)
SPARSITY = (0.5, 0.9, 0.05)  # low, high, step
FINE_TUNE_EPOCHS = (1, 2)
QUANTIZATION = ("dynamic", "int8")
POPULATION = 10  # NSGA-II's generation size: 30 trials are three generations
BATCH_SIZE = 32  # small batches: more optimizer steps from the few images a trial may use


@dataclass(frozen=True)
class SearchData:
    """Training images split three ways: base training, fine-tuning, and validation for scoring."""

    x_base: np.ndarray
    y_base: np.ndarray
    x_fine: np.ndarray
    y_fine: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def search_data(n_val: int = 5_000, n_fine: int = 6_000, n_base: int | None = None) -> SearchData:
    """Split MNIST's 60,000 *training* images: the last `n_val` score trials (never trained on);
    the first `n_fine` fine-tune each trial; the first `n_base` (default: all the rest) train the
    base models. The test set is not touched."""
    from helpers.data import load_mnist

    (x_train, y_train), _ = load_mnist()
    n_val = integer("n_val", n_val, 1, len(x_train) - 1)
    n_rest = len(x_train) - n_val
    n_fine = integer("n_fine", n_fine, 1, n_rest)
    n_base = integer("n_base", n_rest if n_base is None else n_base, 1, n_rest)
    return SearchData(x_train[:n_base], y_train[:n_base], x_train[:n_fine], y_train[:n_fine],
                      x_train[-n_val:], y_train[-n_val:])


def base_model(filters: int, data: SearchData, cache_dir: str | os.PathLike):
    """The tutorial CNN with `filters` channels, trained one epoch on the base images; its weights
    are cached in `cache_dir`, so later trials and other worker processes only load them."""
    from helpers import models, training

    if filters not in FILTERS:
        raise ValueError(f"filters must be one of {FILTERS}, got {filters!r}")
    path = Path(cache_dir) / f"base_cnn_{filters}_filters_{len(data.x_base)}_images.weights.h5"
    training.set_seed(42)
    model = models.build_cnn(filters=filters)
    if path.is_file():
        model.load_weights(path)
        return model
    training.fit(model, data.x_base, data.y_base, epochs=1, batch_size=BATCH_SIZE,
                 validation_split=0.0, verbose=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{os.getpid()}.{path.name}")  # other workers never see half a file
    model.save_weights(partial)
    partial.replace(path)
    return model


def compress(trial_params: dict, data: SearchData, cache_dir: str | os.PathLike, seed: int
             ) -> tuple[bytes, dict]:
    """Prune the cached base model to the trial's sparsity, fine-tune, strip and convert it;
    return the .tflite bytes and the seconds spent in each step."""
    import tensorflow_model_optimization as tfmot

    from helpers import deploy, pipeline, training

    seconds, start = {}, time.perf_counter()
    base = base_model(trial_params["filters"], data, cache_dir)
    seconds["load base model"] = time.perf_counter() - start
    start = time.perf_counter()
    training.set_seed(seed)
    epochs = trial_params["fine_tune_epochs"]
    steps = epochs * pipeline.steps_per_epoch(len(data.x_fine), BATCH_SIZE)
    # Gradual pruning (0 -> target over the first 60% of the steps) recovers far better than
    # pruning everything at step 0, at no extra cost.
    schedule = pipeline.polynomial_schedule(trial_params["sparsity"], max(1, int(0.6 * steps)),
                                            frequency=10)
    model = pipeline.prune_model(base, schedule)
    training.fit(model, data.x_fine, data.y_fine, epochs=epochs, batch_size=BATCH_SIZE,
                 validation_split=0.0, verbose=0, learning_rate=1e-3,
                 callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    seconds["prune + fine-tune"] = time.perf_counter() - start
    start = time.perf_counter()
    blob = deploy.to_tflite(tfmot.sparsity.keras.strip_pruning(model),
                            trial_params["quantization"], data.x_fine[:100])
    seconds["convert to .tflite"] = time.perf_counter() - start
    return blob, seconds


class CompressionObjective:
    """Optuna objective: (validation accuracy, gzipped .tflite bytes) of one compressed CNN.

    Taught in notebook 05, §3.
    """

    def __init__(self, data: SearchData, cache_dir: str | os.PathLike,
                 model_dir: str | os.PathLike | None = None):
        self.data, self.cache_dir = data, Path(cache_dir)
        self.model_dir = Path(model_dir) if model_dir is not None else None

    def __call__(self, trial) -> tuple[float, int]:
        """Choose the trial's settings, compress, and score on the validation images."""
        from helpers import keras, metrics

        params = suggest_params(trial)
        blob, seconds = compress(params, self.data, self.cache_dir, seed=1000 + trial.number)
        start = time.perf_counter()
        accuracy = metrics.tflite_accuracy(blob, self.data.x_val, self.data.y_val)
        seconds["score on validation"] = time.perf_counter() - start
        if self.model_dir is not None:
            self.model_dir.mkdir(parents=True, exist_ok=True)
            (self.model_dir / f"trial_{trial.number:04d}.tflite").write_bytes(blob)
        trial.set_user_attr("seconds", seconds)
        trial.set_user_attr("worker_pid", os.getpid())
        keras.backend.clear_session()
        return accuracy, metrics.gzipped_size(blob)


def storage_for(location: str | os.PathLike):
    """An Optuna storage: a journal file for a path (safe for several processes on one machine),
    or the RDB storage for a database URL such as postgresql://user:pw@host/db (many machines)."""
    import optuna

    text = os.fspath(location)
    if "://" in text:
        return optuna.storages.RDBStorage(text)
    path = Path(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    backend = optuna.storages.journal.JournalFileBackend(
        str(path), lock_obj=optuna.storages.journal.JournalFileOpenLock(str(path)))
    return optuna.storages.journal.JournalStorage(backend)


def open_study(location: str | os.PathLike, study_name: str, seed: int = 0):
    """Create the study, or load it if it exists (resuming); NSGA-II seeded per worker."""
    import optuna

    if not isinstance(study_name, str) or not study_name:
        raise ValueError(f"study_name must be a non-empty string, got {study_name!r}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.NSGAIISampler(population_size=POPULATION, seed=seed)
    with warnings.catch_warnings():  # a JournalFileOpenLock is explicit; Optuna still notes it
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = storage_for(location)
        try:  # loading first writes nothing: reading a shipped study leaves its file unchanged
            return optuna.load_study(study_name=study_name, storage=storage, sampler=sampler)
        except KeyError:
            return optuna.create_study(study_name=study_name, storage=storage, sampler=sampler,
                                       directions=["maximize", "minimize"], load_if_exists=True)


def run_worker(location: str | os.PathLike, study_name: str, n_trials: int, seed: int,
               cache_dir: str | os.PathLike, model_dir: str | os.PathLike | None = None,
               data: SearchData | None = None, progress: bool = False) -> int:
    """Optimize the shared study for `n_trials` trials in this process; return how many ran."""
    positive_int("n_trials", n_trials)
    study = open_study(location, study_name, seed)
    objective = CompressionObjective(data or search_data(), cache_dir, model_dir)
    finished = []  # this process's trials only: other workers add to the same study meanwhile
    study.optimize(objective, n_trials=n_trials, show_progress_bar=progress, gc_after_trial=False,
                   callbacks=[lambda study, trial: finished.append(trial.number)])
    return len(finished)


def front_after(study, n_trials: int) -> list:
    """Optuna's Pareto front (best_trials) of the study's first `n_trials` completed trials.

    Taught in notebook 05, §3 (Exercise 5.3).
    """
    import optuna

    positive_int("n_trials", n_trials)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    prefix = optuna.create_study(directions=[d.name.lower() for d in study.directions])
    prefix.add_trials(sorted(done, key=lambda t: t.number)[:n_trials])
    return sorted(prefix.best_trials, key=lambda t: t.values[1])


# --- replaying samplers on a lookup table (notebook 05, §3.1) -----------------------------------

def suggest_params(trial) -> dict:
    """The search space as Optuna suggestions: the trial's filters, sparsity, fine-tuning epochs and
    quantization (the same calls, in the same order, for the real objective and for a replay)."""
    return {
        "filters": trial.suggest_categorical("filters", list(FILTERS)),
        "sparsity": trial.suggest_float("sparsity", *SPARSITY[:2], step=SPARSITY[2]),
        "fine_tune_epochs": trial.suggest_int("fine_tune_epochs", *FINE_TUNE_EPOCHS),
        "quantization": trial.suggest_categorical("quantization", list(QUANTIZATION)),
    }


def config_key(params: dict) -> tuple:
    """A hashable name for one configuration of the search space (sparsity rounded to its grid)."""
    return (int(params["filters"]), round(float(params["sparsity"]), 2), int(params["fine_tune_epochs"]),
            str(params["quantization"]))


def all_configs() -> list[tuple]:
    """Every configuration of the search space, as config_key tuples (3 x 9 x 2 x 2 = 108)."""
    low, high, step = SPARSITY
    sparsities = [round(low + i * step, 2) for i in range(int(round((high - low) / step)) + 1)]
    epochs = range(FINE_TUNE_EPOCHS[0], FINE_TUNE_EPOCHS[1] + 1)
    return [(f, s, e, q) for f in FILTERS for s in sparsities for e in epochs for q in QUANTIZATION]


def lookup_table(trials) -> dict[tuple, dict]:
    """Each configuration's (accuracy, bytes): the mean over the completed `trials` that ran it, with
    `n` their count; a configuration no trial ran (n = 0) is interpolated linearly in sparsity between
    the nearest measured sparsities with the same other settings (the nearest one at the ends)."""
    measured: dict[tuple, list] = {}
    for trial in trials:
        if trial.values is not None:
            measured.setdefault(config_key(trial.params), []).append(trial.values)
    if not measured:
        raise ValueError("trials must hold at least one completed trial")
    table = {key: {"values": tuple(float(v) for v in np.mean(values, axis=0)), "n": len(values)}
             for key, values in measured.items()}
    for key in all_configs():
        if key in table:
            continue
        filters, sparsity, epochs, quantization = key
        known = sorted((k[1], v["values"]) for k, v in table.items()
                       if v["n"] and (k[0], k[2], k[3]) == (filters, epochs, quantization))
        if not known:
            raise ValueError(f"no trial ran filters={filters}, fine_tune_epochs={epochs}, "
                             f"quantization={quantization!r} at any sparsity: nothing to interpolate from")
        xs = [s for s, _ in known]
        values = tuple(float(np.interp(sparsity, xs, [v[i] for _, v in known])) for i in range(2))
        table[key] = {"values": values, "n": 0}
    return table


class LookupObjective:
    """An Optuna objective that answers from a lookup_table instead of training: replays a search in
    milliseconds per trial. Taught in notebook 05, §3.1."""

    def __init__(self, table: dict[tuple, dict]):
        missing = set(all_configs()) - set(table)
        if missing:
            raise ValueError(f"table lacks {len(missing)} configuration(s), e.g. {sorted(missing)[0]}")
        self.table = table

    def __call__(self, trial) -> tuple[float, float]:
        return self.table[config_key(suggest_params(trial))]["values"]


def replay(sampler, table: dict[tuple, dict], n_trials: int):
    """An in-memory two-objective study (maximize accuracy, minimize bytes) of `n_trials` trials that
    `sampler` chose and `table` scored."""
    import optuna

    positive_int("n_trials", n_trials)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():  # some samplers' multi-objective support is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
        study.optimize(LookupObjective(table), n_trials=n_trials)
    return study
