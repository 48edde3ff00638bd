"""Notebook 04's results, re-checked independently: the final int8 model meets the target on the
full test set, and summary.json matches the files on disk. Plus the notebook's exercise checks."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

import helpers
from helpers import checks

OUT = helpers.OUTPUT_DIR / "04_mnist_project"
RUN_FIRST = ("run notebooks/04_mnist_project.ipynb first (e.g. "
             "`pytest notebooks/04_mnist_project.ipynb`"
             " or Run All in JupyterLab), without COURSE_QUICK=1")
MIN_ACCURACY, MAX_GZIPPED = 0.985, 8000


def _require(path):
    if not path.is_file():
        pytest.fail(f"{path} is missing: {RUN_FIRST}")
    return path


def _summary() -> dict:
    summary = json.loads(_require(OUT / "summary.json").read_text())
    if summary.get("quick_run"):
        pytest.fail(f"summary.json comes from a COURSE_QUICK=1 run: {RUN_FIRST}")
    return summary


@pytest.mark.after_notebooks
def test_final_model_meets_the_target_on_the_full_test_set(mnist):
    from helpers import deploy

    data = _require(OUT / "final_model.tflite").read_bytes()
    gzipped = len(gzip.compress(data, 9))
    interpreter = deploy.make_interpreter(data)
    detail = interpreter.get_input_details()[0]
    assert detail["dtype"] == np.int8, "the final model should take int8 input (full-integer)"
    assert interpreter.get_output_details()[0]["dtype"] == np.int8
    (_, _), (x_test, y_test) = mnist
    assert len(x_test) == 10_000
    # independent of helpers.metrics: quantize the input ourselves and run the whole test set
    scale, zero_point = detail["quantization"]
    x = np.clip(np.round(x_test.astype(np.float32) / 255.0 / scale + zero_point), -128, 127)
    x = x.astype(np.int8)
    output = interpreter.get_output_details()[0]["index"]
    correct = 0
    for i in range(len(x)):
        interpreter.set_tensor(detail["index"], x[i : i + 1])
        interpreter.invoke()
        correct += int(np.argmax(interpreter.get_tensor(output)[0]) == y_test[i])
    accuracy = correct / len(x)
    assert accuracy >= MIN_ACCURACY and gzipped <= MAX_GZIPPED, (
        f"final_model.tflite: {accuracy:.2%} at {gzipped:,} B gzipped; target >= "
        f"{MIN_ACCURACY:.1%} at <= {MAX_GZIPPED:,} B")
    summary = _summary()
    final = summary["stages"][-1]
    assert final["file"] == summary["final_model"] == "final_model.tflite"
    assert final["accuracy"] == pytest.approx(accuracy, abs=1e-4), "summary.json's accuracy differs"


@pytest.mark.after_notebooks
def test_summary_matches_the_files_on_disk():
    summary = _summary()
    assert len(summary["stages"]) >= 4
    keys = {"stage", "file", "accuracy", "nonzero_params", "bytes", "gzipped_bytes", "latency_us"}
    for row in summary["stages"]:
        assert keys <= set(row), f"stage row lacks {keys - set(row)}"
        path = OUT / row["file"]
        assert path.is_file(), f"summary.json names {row['file']}, which does not exist in {OUT}"
        data = path.read_bytes()
        assert row["bytes"] == len(data), f"{row['file']}: summary says {row['bytes']} B"
        assert row["gzipped_bytes"] == len(gzip.compress(data, 9)), row["file"]
        assert 0 < row["accuracy"] <= 1 and row["latency_us"] > 0 and row["nonzero_params"] > 0
    sizes = [row["gzipped_bytes"] for row in summary["stages"]]
    assert sizes[-1] < min(sizes[:2]), "the final model should be smaller than the float stages"
    ratio = summary["compression_vs_float_baseline"]["gzipped_ratio"]
    assert ratio == pytest.approx(sizes[0] / sizes[-1])


def test_missing_outputs_fail_with_a_run_first_message(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="run notebooks/04_mnist_project.ipynb first"):
        _require(tmp_path / "final_model.tflite")


# --- exercise checks ------------------------------------------------------------------------

def not_attempted(*args):
    raise NotImplementedError()


def end_step(n, b, e, f):
    return int(-(-n // b) * e * f)


def pareto(points):
    def dominates(a, b):
        return (a["gzipped_bytes"] <= b["gzipped_bytes"] and a["accuracy"] >= b["accuracy"]
                and (a["gzipped_bytes"] < b["gzipped_bytes"] or a["accuracy"] > b["accuracy"]))
    return [p["name"] for p in points if not any(dominates(q, p) for q in points)]


def pareto_weak(points):  # keeps ties that another point beats on the other axis
    return [p["name"] for p in points if not any(
        q["gzipped_bytes"] < p["gzipped_bytes"] and q["accuracy"] > p["accuracy"] for q in points)]


def pareto_too_strict(points):  # drops points that merely tie
    return [p["name"] for p in points if not any(
        q is not p and q["gzipped_bytes"] <= p["gzipped_bytes"] and q["accuracy"] >= p["accuracy"]
        for q in points) or len(points) == 1]


def pqat(model):
    import tensorflow_model_optimization as tfmot

    annotated = tfmot.quantization.keras.quantize_annotate_model(model)
    return tfmot.quantization.keras.quantize_apply(
        annotated, tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme())


def plain_qat(model):
    import tensorflow_model_optimization as tfmot

    return tfmot.quantization.keras.quantize_model(model)


CASES = {
    checks.check_pruning_end_step: (
        end_step,
        [lambda n, b, e, f: int(n * e * f), lambda n, b, e, f: int(n // b * e * f),
         lambda n, b, e, f: round(-(-n // b) * e * f + 0.5), lambda n, b, e, f: 1000,
         lambda n, b, e, f: -(-n // b) * e],
    ),
    checks.check_pareto_front: (
        pareto,
        [pareto_weak, pareto_too_strict, lambda points: [p["name"] for p in points],
         lambda points: "a"],
    ),
    checks.check_pqat_model: (pqat, [plain_qat, lambda model: model]),
}


@pytest.mark.parametrize("check", CASES, ids=lambda c: c.__name__)
def test_check_accepts_solution_and_rejects_wrong_answers(check, capsys):
    solution, wrong_answers = CASES[check]
    check(solution)
    assert "✅" in capsys.readouterr().out
    for wrong in wrong_answers:
        with pytest.raises(AssertionError, match="Hint"):
            check(wrong)


def test_end_step_check_does_not_reveal_the_answer():
    with pytest.raises(AssertionError) as info:
        checks.check_pruning_end_step(lambda n, b, e, f: 7)
    assert str(end_step(54_000, 128, 4, 0.6)) not in str(info.value)


@pytest.mark.parametrize("check", CASES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("placeholder", [not_attempted, None, ...])
def test_check_says_plainly_when_not_attempted(check, placeholder):
    with pytest.raises(NotImplementedError, match="not attempted yet"):
        check(placeholder)
