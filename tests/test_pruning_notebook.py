"""Notebook 02's section 9, re-checked from the numbers it records (outputs/02_pruning/channel_pruning.json):
channel pruning and unstructured pruning were compared at matched nonzero counts, the unstructured arm pruned
every layer (the Dense one included), and both controls exist with the same training budget."""

from __future__ import annotations

import json

import pytest

import helpers

OUT = helpers.OUTPUT_DIR / "02_pruning"
RUN_FIRST = ("run notebooks/02_pruning.ipynb first (e.g. `pytest notebooks/02_pruning.ipynb` or Run All in "
             "JupyterLab), without COURSE_QUICK=1")
ARMS = ("channels removed", "weights masked", "pruned width from scratch")


def _record(path=OUT / "channel_pruning.json") -> dict:
    """The recorded §9 numbers, or a test failure that says how to produce them."""
    if not path.is_file():
        pytest.fail(f"{path} is missing: {RUN_FIRST}")
    record = json.loads(path.read_text())
    if record.get("quick_run"):
        pytest.fail(f"{path.name} comes from a COURSE_QUICK=1 run: {RUN_FIRST}")
    return record


def _rows(record: dict, arm: str) -> list[dict]:
    return [row for row in record["rows"] if row["arm"] == arm]


def _one(record: dict, arm: str, ratio: float = 0.0) -> dict:
    rows = [row for row in _rows(record, arm) if row["ratio"] == ratio]
    assert len(rows) == 1, f"channel_pruning.json should hold one {arm!r} row at ratio {ratio}, holds {len(rows)}"
    return rows[0]


@pytest.mark.after_notebooks
def test_arms_are_compared_at_matched_nonzero_counts():
    record = _record()
    base = _one(record, "original")
    ratios = sorted(row["ratio"] for row in _rows(record, "channels removed"))
    assert len(ratios) >= 3 and all(0 < r < 1 for r in ratios), f"pruning ratios {ratios}"
    for ratio in ratios:
        channels, masked, scratch = (_one(record, arm, ratio) for arm in ARMS)
        assert channels["nonzero"] == channels["params"] < base["params"], f"{ratio}: channel pruning removes"
        assert all(f < f0 for f, f0 in zip(channels["filters"], base["filters"], strict=True))
        assert masked["nonzero"] == channels["params"], (
            f"ratio {ratio}: the masked model keeps {masked['nonzero']:,} nonzero parameters, the channel-pruned "
            f"one has {channels['params']:,}")
        assert masked["params"] == base["params"] and masked["macs"] == base["macs"], "masks keep dense tensors"
        assert masked["filters"] == base["filters"]
        assert channels["macs"] < base["macs"] and masked["nonzero_macs"] < base["macs"]
        for layer, (nonzero, size) in masked["kernel_nonzero"].items():
            assert nonzero < size, f"ratio {ratio}: the unstructured arm left layer {layer} unpruned"
        assert "logits" in masked["kernel_nonzero"], "the Dense layer must be among the pruned layers"
        assert scratch["filters"] == channels["filters"] and scratch["params"] == channels["params"]


@pytest.mark.after_notebooks
def test_both_controls_exist_with_the_same_training_budget():
    record = _record()
    base, control = _one(record, "original"), _one(record, "unpruned, fine-tuned")
    steps = record["steps_per_epoch"]
    assert base["train_steps"] == record["train_epochs"] * steps > 0
    assert control["filters"] == base["filters"] and control["params"] == base["params"]
    budget = (record["train_epochs"] + record["fine_tune_epochs"]) * steps
    assert control["train_steps"] == budget, "the control is fine-tuned for as many steps as the pruned models"
    for ratio in sorted(row["ratio"] for row in _rows(record, "channels removed")):
        for arm in ARMS:
            assert _one(record, arm, ratio)["train_steps"] == budget, f"{arm} at {ratio}: not the same budget"
    for row in record["rows"]:
        assert 0.1 < row["val_accuracy"] <= 1 and 0.1 < row["test_accuracy"] <= 1 and row["latency_us"] > 0


@pytest.mark.after_notebooks
def test_the_width_sweep_brackets_a_multiple_of_sixteen():
    sweep = _record()["sweep"]
    filters = sweep["filters"]
    assert any(f % 16 == 0 for f in filters) and any(f % 16 for f in filters), filters
    for name, times in sweep["latency_us"].items():
        assert len(times) == len(filters) and all(t > 0 for t in times), name


def test_a_missing_record_fails_with_a_run_first_message(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="run notebooks/02_pruning.ipynb first"):
        _record(tmp_path / "channel_pruning.json")


def test_a_quick_run_record_is_refused(tmp_path):
    path = tmp_path / "channel_pruning.json"
    path.write_text(json.dumps({"quick_run": True, "rows": []}))
    with pytest.raises(pytest.fail.Exception, match="COURSE_QUICK=1"):
        _record(path)


# --- benchmarks/pruning_schedules.py: LeNet-300-100 toward Han et al.'s 92% (read by notebook 02, §7) -------------

SCHEDULES_JSON = helpers.ROOT / "benchmarks" / "results" / "pruning_schedules.json"
PRUNED_ARMS = ("PolynomialDecay", "one-shot + fine-tune")


def _check_schedules_record(record: dict) -> None:
    rows, target = record["rows"], record["target_sparsity"]
    assert set(rows) >= {"baseline", "control: unpruned", "one-shot, no fine-tuning", *PRUNED_ARMS}
    budget = (record["epochs"] + record["prune_epochs"]) * record["steps_per_epoch"]
    for arm in (*PRUNED_ARMS, "control: unpruned"):
        assert rows[arm]["train_steps"] == budget, f"{arm}: not the same step budget"
    for arm in PRUNED_ARMS:
        for layer, sparsity in target.items():
            assert abs(rows[arm]["sparsity"][layer] - sparsity) < 1e-3, f"{arm} {layer}: {rows[arm]['sparsity']}"
    assert rows["control: unpruned"]["overall_sparsity"] == 0 == rows["baseline"]["overall_sparsity"]
    for row in rows.values():
        assert 0.05 < row["test_accuracy"] <= 1 and 0.05 < row["val_accuracy"] <= 1


def test_committed_pruning_schedules_record_is_a_full_run_with_equal_budgets():
    record = json.loads(SCHEDULES_JSON.read_text())
    assert not record["quick_run"] and record["epochs"] >= 10 and record["prune_epochs"] >= 10
    assert record["train_images"] >= 50_000 * 0.9 and record["test_images"] == 10_000
    _check_schedules_record(record)


@pytest.mark.benchmark
def test_pruning_schedules_benchmark_runs_small(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "schedules.json"
    command = [sys.executable, str(helpers.ROOT / "benchmarks" / "pruning_schedules.py"), "--epochs", "1",
               "--prune-epochs", "1", "--images", "3000", "--json", str(out)]
    subprocess.run(command, capture_output=True, text=True, timeout=900, check=True)
    _check_schedules_record(json.loads(out.read_text()))
