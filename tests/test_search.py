"""Notebook 05's search: an objective that never reads the test set, studies that resume, and two
worker processes that share one study without losing or duplicating a trial."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import optuna
import pytest

from helpers import ROOT, data, search

SMALL = ["--val-images", "300", "--fine-images", "300", "--base-images", "1500"]


class RefusingArray:
    """Stands in for the test set where it must not be read: any use of it raises."""

    def _refuse(self, *args, **kwargs):
        raise AssertionError("the search read the test set")

    __getitem__ = __array__ = __len__ = __iter__ = __add__ = __eq__ = _refuse
    __array_ufunc__ = __array_function__ = _refuse

    def __getattr__(self, name):
        self._refuse()


def _guarded_load_mnist(real):
    def load_mnist(*args, **kwargs):
        (x_train, y_train), (x_test, y_test) = real(*args, **kwargs)
        return (x_train, y_train), (RefusingArray(), RefusingArray())
    return load_mnist


def test_guard_really_refuses():
    guard = RefusingArray()
    for use in (lambda: guard[0], lambda: len(guard), lambda: np.asarray(guard), lambda: guard.shape,
                lambda: guard + 1, lambda: np.mean(guard == 1), lambda: list(guard)):
        with pytest.raises(AssertionError, match="read the test set"):
            use()


def test_a_trial_never_reads_the_test_set(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "load_mnist", _guarded_load_mnist(data.load_mnist))
    split = search.search_data(n_val=300, n_fine=300, n_base=1500)
    assert len(split.x_val) == 300 and len(split.x_fine) == 300 and len(split.x_base) == 1500
    added = search.run_worker(tmp_path / "study.log", "guarded", 1, seed=0,
                              cache_dir=tmp_path / "cache", data=split)
    trial = search.open_study(tmp_path / "study.log", "guarded").trials[0]
    assert added == 1 and trial.state == optuna.trial.TrialState.COMPLETE
    accuracy, gzipped = trial.values
    assert 0.0 <= accuracy <= 1.0 and gzipped > 1000
    assert set(trial.user_attrs["seconds"]) == {"load base model", "prune + fine-tune",
                                               "convert to .tflite", "score on validation"}


def test_validation_images_are_held_out_from_all_training():
    split = search.search_data(n_val=1000, n_fine=500)
    (x_train, _), _ = data.load_mnist()
    assert np.array_equal(split.x_val, x_train[-1000:])
    assert len(split.x_base) == len(x_train) - 1000
    assert np.shares_memory(split.x_fine, x_train[:500]) or np.array_equal(split.x_fine, x_train[:500])


@pytest.mark.parametrize("kwargs, message", [
    ({"n_val": 0}, "n_val must be an int from 1"),
    ({"n_val": 60_000}, "n_val must be an int from 1"),
    ({"n_fine": 59_000}, "n_fine must be an int from 1"),
    ({"n_base": 0}, "n_base must be an int from 1"),
    ({"n_val": 5.5}, "n_val must be an int"),
])
def test_search_data_rejects_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        search.search_data(**kwargs)


def _cli(tmp_path, *args):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "search.py"),
                           "--storage", str(tmp_path / "study.log"), *SMALL, *args],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_workers_share_one_study_and_runs_resume(tmp_path):
    first = _cli(tmp_path, "--trials", "2")
    assert first["added"] == 2 and first["trials"] == 2
    second = _cli(tmp_path, "--trials", "4", "--workers", "2")
    assert second["added"] == 4 and second["trials"] == 6, "resuming adds to the same study"
    study = search.open_study(tmp_path / "study.log", search_study_name())
    numbers = [t.number for t in study.trials]
    assert sorted(numbers) == list(range(6)), f"lost or duplicated trial numbers: {numbers}"
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    parallel = {t.user_attrs["worker_pid"] for t in study.trials if t.number >= 2}
    assert len(parallel) == 2, "both worker processes recorded trials"
    summary = json.loads((tmp_path / "study.json").read_text())
    assert summary["trials"] == 6 and summary["versions"]["tensorflow"]
    assert summary["versions"]["optuna"] == optuna.__version__, "the study records the Optuna that ran it"
    assert (summary["val_images"], summary["fine_images"], summary["base_images"]) == (300, 300, 1500)


def search_study_name() -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import search as cli  # benchmarks/search.py
    finally:
        sys.path.pop(0)
    return cli.DEFAULT_STUDY


@pytest.mark.parametrize("args, message", [
    (["--trials", "0"], "--trials must be a positive integer"),
    (["--trials", "2", "--workers", "3"], "cannot exceed --trials"),
])
def test_cli_rejects_bad_arguments(tmp_path, args, message):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "search.py"), *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and message in done.stderr


def test_front_after_uses_only_the_first_trials():
    study = optuna.create_study(directions=["maximize", "minimize"])
    points = [(0.90, 5000), (0.95, 6000), (0.97, 9000), (0.96, 5500), (0.99, 20000)]
    for accuracy, size in points:
        study.add_trial(optuna.trial.create_trial(values=[accuracy, size]))
    assert [t.values for t in search.front_after(study, 3)] == [[0.90, 5000], [0.95, 6000],
                                                               [0.97, 9000]]
    assert [t.values for t in search.front_after(study, 5)] == [[0.90, 5000], [0.96, 5500],
                                                               [0.97, 9000], [0.99, 20000]]
    with pytest.raises(ValueError, match="n_trials must be a positive int"):
        search.front_after(study, 0)


def test_a_database_url_gives_the_rdb_storage(tmp_path):
    storage = search.storage_for(f"sqlite:///{tmp_path / 'study.db'}")
    assert isinstance(storage, optuna.storages.RDBStorage)
    study = search.open_study(f"sqlite:///{tmp_path / 'study.db'}", "url")
    assert study.directions == [optuna.study.StudyDirection.MAXIMIZE,
                                optuna.study.StudyDirection.MINIMIZE]
    with pytest.raises(ValueError, match="study_name must be a non-empty string"):
        search.open_study(tmp_path / "x.log", "")


def test_the_shipped_study_is_complete_and_reading_it_changes_nothing():
    shipped = ROOT / "benchmarks" / "results" / "search_study.log"
    before = shipped.read_bytes()
    study = search.open_study(shipped, search_study_name())
    assert shipped.read_bytes() == before, "opening a study to read it must not append to it"
    info = json.loads(shipped.with_suffix(".json").read_text())
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == info["complete"] == len(study.trials) >= 200
    assert sorted(t.number for t in study.trials) == list(range(len(study.trials)))
    assert info["versions"]["tensorflow"] and info["date"]
    assert info["versions"]["optuna"] or "not recorded" in info["note"], "Optuna's version, or why it is missing"
    assert info["val_images"] == 5000 and "--val-images" not in info["command"]
    assert len({t.user_attrs["worker_pid"] for t in complete}) == info["workers"] == 2
    assert all(0.0 < t.values[0] <= 1.0 and t.values[1] > 1000 for t in complete)


def _trial(params: dict, values: list[float]):
    distributions = {"filters": optuna.distributions.CategoricalDistribution(list(search.FILTERS)),
                     "sparsity": optuna.distributions.FloatDistribution(*search.SPARSITY[:2], step=search.SPARSITY[2]),
                     "fine_tune_epochs": optuna.distributions.IntDistribution(*search.FINE_TUNE_EPOCHS),
                     "quantization": optuna.distributions.CategoricalDistribution(list(search.QUANTIZATION))}
    return optuna.trial.create_trial(params=params, distributions=distributions, values=values)


def test_the_search_space_has_108_configurations():
    configs = search.all_configs()
    assert len(configs) == len(set(configs)) == 3 * 9 * 2 * 2
    assert {c[1] for c in configs} == {0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9}


def test_lookup_table_averages_repeats_and_interpolates_the_rest():
    trials = []
    for filters in search.FILTERS:
        for epochs in search.FINE_TUNE_EPOCHS:
            for quantization in search.QUANTIZATION:
                for sparsity, accuracy, size in [(0.5, 0.96, 9000), (0.7, 0.94, 7000), (0.9, 0.90, 5000)]:
                    trials.append(_trial({"filters": filters, "sparsity": sparsity, "fine_tune_epochs": epochs,
                                          "quantization": quantization}, [accuracy, size]))
    trials.append(_trial({"filters": 4, "sparsity": 0.5, "fine_tune_epochs": 1, "quantization": "int8"},
                         [0.94, 9200]))  # a repeat: averaged
    table = search.lookup_table(trials)
    assert set(table) == set(search.all_configs())
    assert table[(4, 0.5, 1, "int8")] == {"values": (0.95, 9100.0), "n": 2}
    assert table[(8, 0.7, 2, "dynamic")] == {"values": (0.94, 7000.0), "n": 1}
    interpolated = table[(8, 0.6, 2, "dynamic")]
    assert interpolated["n"] == 0 and np.allclose(interpolated["values"], (0.95, 8000.0))
    with pytest.raises(ValueError, match="nothing to interpolate from"):
        search.lookup_table(trials[:3])
    with pytest.raises(ValueError, match="at least one completed trial"):
        search.lookup_table([])


def test_a_replay_asks_the_real_search_space_and_answers_from_the_table():
    table = {key: {"values": (0.5 + key[1] / 10, 1000.0 * key[0]), "n": 1} for key in search.all_configs()}
    study = search.replay(optuna.samplers.RandomSampler(seed=0), table, 30)
    assert len(study.trials) == 30
    for trial in study.trials:
        assert tuple(trial.values) == table[search.config_key(trial.params)]["values"]
        assert trial.distributions["sparsity"] == optuna.distributions.FloatDistribution(0.5, 0.9, step=0.05)
    fixed = {"filters": 8, "sparsity": 0.65, "fine_tune_epochs": 2, "quantization": "int8"}
    assert search.suggest_params(optuna.trial.FixedTrial(fixed)) == fixed
    with pytest.raises(ValueError, match="table lacks 1 configuration"):
        search.LookupObjective({k: v for k, v in table.items() if k != (4, 0.5, 1, "dynamic")})


def test_the_shipped_study_covers_the_space_unevenly():
    study = search.open_study(ROOT / "benchmarks" / "results" / "search_study.log", search_study_name())
    table = search.lookup_table(study.trials)
    measured = sum(entry["n"] > 0 for entry in table.values())
    assert 50 <= measured < len(search.all_configs()) == len(table)
    assert max(entry["n"] for entry in table.values()) > 2, "NSGA-II re-ran configurations"
