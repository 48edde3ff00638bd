"""Reproduce the TFMOT "Pruning in Keras" tutorial's reference numbers with the course's data,
and write them, with the date and library versions, to benchmarks/results/tfmot_tutorial.json.

    python benchmarks/tfmot_tutorial.py [--ablation] [--json benchmarks/results/tfmot_tutorial.json]

The tutorial's steps, as published (tensorflow.org/model_optimization/guide/pruning/
pruning_with_keras and .../combine/pqat_example): its CNN (Conv 12 3x3, max-pool, Dense 10) trained 4 epochs (Adam,
batch 32, validation split 0.1); pruned with PolynomialDecay 50% -> 80% over 2 epochs (batch 128);
strip_pruning; post-training dynamic-range quantization. And pruning-preserving QAT: 1 epoch
(batch 128) on the stripped pruned model, converted with Optimize.DEFAULT. Accuracy with LiteRT
on the full test set; size gzip -9. Those are dynamic-range files (int8 weights, float32
activations and compute); the same two models are also exported full-integer, the way notebook 04
exports its own (helpers.pipeline.export_int8), so the comparison can be like for like.

--ablation adds a 2x2 study: the tutorial's and the course's architecture, each trained with the
tutorial's and the course's recipe (notebook 04's pipeline.record_recipe()), every PQAT model
exported with export_int8; which of the two made the difference.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import helpers  # noqa: E402  (first: selects legacy Keras before TensorFlow loads)

DEFAULT_JSON = ROOT / "benchmarks" / "results" / "tfmot_tutorial.json"
SEED = 42


def _data():
    from helpers import data, training

    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    return (training.as_float(x_train), y_train), (x_test, y_test)


def tutorial_recipe(model, x_train, y_train, verbose: int = 0):
    """The tutorial's steps on `model`: 4 epochs (Adam, batch 32), prune 50% -> 80% over 2 epochs
    (batch 128), strip, 1 epoch of pruning-preserving QAT (batch 128). Returns (stripped, pqat)."""
    import tensorflow_model_optimization as tfmot

    from helpers import pipeline, training

    epochs = (training.run_size(4, 1), training.run_size(2, 1), 1)
    training.fit(model, x_train, y_train, epochs=epochs[0], batch_size=32,
                 validation_split=0.1, verbose=verbose)
    end_step = math.ceil(int(len(x_train) * 0.9) / 128) * epochs[1]
    schedule = pipeline.polynomial_schedule(0.80, end_step=end_step, initial_sparsity=0.50)
    pruned = pipeline.prune_model(model, schedule)
    training.fit(pruned, x_train, y_train, epochs=epochs[1], batch_size=128, validation_split=0.1,
                 callbacks=[tfmot.sparsity.keras.UpdatePruningStep()], verbose=verbose)
    stripped = tfmot.sparsity.keras.strip_pruning(pruned)
    pqat = pipeline.prune_preserving_qat(stripped)
    training.fit(pqat, x_train, y_train, epochs=epochs[2], batch_size=128, validation_split=0.1,
                 verbose=verbose)
    return stripped, pqat


def course_recipe(model, x_train, y_train, first_conv: str, verbose: int = 0):
    """Notebook 04's steps (pipeline.record_recipe()) on `model`, its first convolution kept dense.
    Returns (stripped, pqat)."""
    from helpers import pipeline

    recipe = pipeline.record_recipe()
    common = dict(batch_size=recipe["batch_size"], validation_split=recipe["validation_split"],
                  augment=recipe["augment"], seed=SEED, verbose=verbose)
    pipeline.fit_cosine(model, x_train, y_train, **recipe["float"], **common)
    pruned = pipeline.prune_and_fit(model, x_train, y_train, **{**recipe["prune"], "skip": (first_conv,)},
                                    **common)
    stripped = pipeline.strip_pruning(pruned)
    return stripped, pipeline.pqat_and_fit(stripped, x_train, y_train, **recipe["pqat"], **common)


def _measure(data: bytes, path: Path, x_test, y_test) -> dict:
    from helpers import deploy, metrics

    deploy.save_tflite(data, path)
    return {"accuracy": metrics.tflite_accuracy(path, x_test, y_test), "bytes": metrics.file_size(path),
            "gzipped_bytes": metrics.gzipped_size(path)}


def run(out_dir: Path, verbose: int = 0) -> tuple[list[dict], list[dict]]:
    """Run the tutorial's two pipelines; return (the tutorial's dynamic-range files, as its guide
    exports them; the same two models exported full-integer like notebook 04, pipeline.export_int8)."""
    from helpers import deploy, models, pipeline, training

    (x_train, y_train), (x_test, y_test) = _data()
    training.set_seed(SEED)
    stripped, pqat = tutorial_recipe(models.build_cnn(), x_train, y_train, verbose)
    rep = x_train[:300]
    results, course_export = [], []
    for name, model in (("TFMOT tutorial: pruning + PTQ", stripped),
                        ("TFMOT tutorial: pruning-preserving QAT", pqat)):
        stem = name.split(": ")[1].replace(" ", "_").replace("+", "and")
        results.append({"name": name + ", dynamic-range", **_measure(deploy.to_tflite(model, "dynamic"),
                                                 out_dir / f"{stem}.tflite", x_test, y_test)})
        course_export.append({"name": name + ", full-integer int8 (export_int8)",
                              **_measure(pipeline.export_int8(model, rep), out_dir / f"{stem}_int8.tflite",
                                         x_test, y_test)})
    return results, course_export


def ablation(out_dir: Path, verbose: int = 0) -> list[dict]:
    """2×2: the tutorial's and the course's architecture, each trained with the tutorial's and the
    course's recipe; every final (PQAT) model exported like notebook 04 (pipeline.export_int8) and
    measured on the full test set, with the pruned float model's accuracy on the validation split."""
    from helpers import metrics, models, pipeline, training

    (x_train, y_train), (x_test, y_test) = _data()
    n_fit = int(len(x_train) * 0.9)
    x_val, y_val = x_train[n_fit:], y_train[n_fit:]
    architectures = {"tutorial CNN": (models.build_cnn, "conv"),
                     "course CNN": (pipeline.build_record_model, "conv1")}
    rows = []
    for arch, (build, first_conv) in architectures.items():
        for recipe in ("tutorial", "course"):
            training.set_seed(SEED)
            model = build()
            if recipe == "tutorial":
                stripped, pqat = tutorial_recipe(model, x_train, y_train, verbose)
            else:
                stripped, pqat = course_recipe(model, x_train, y_train, first_conv, verbose)
            stem = f"ablation_{arch.split()[0]}_arch_{recipe}_recipe"
            rows.append({"architecture": arch, "recipe": recipe, "parameters": stripped.count_params(),
                         "nonzero_params": sum(r["nonzero"] for r in metrics.sparsity_table(stripped)),
                         "validation_accuracy_pruned_float": float(
                             np.mean(np.argmax(stripped.predict(x_val, verbose=0), axis=1) == y_val)),
                         "int8": _measure(pipeline.export_int8(pqat, x_train[:300]), out_dir / f"{stem}.tflite",
                                          x_test, y_test)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the tutorial and write its figures with the date and versions to a JSON file."""
    from helpers import training
    from helpers.versions import installed_versions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--out", type=Path, default=helpers.OUTPUT_DIR / "benchmarks" / "tfmot")
    parser.add_argument("--progress", action="store_true", help="show Keras' epoch lines")
    parser.add_argument("--ablation", action="store_true",
                        help="also run the 2x2 ablation (architecture x recipe), several minutes")
    args = parser.parse_args(argv)
    verbose = 2 if args.progress else 0
    results, course_export = run(args.out, verbose=verbose)
    versions = installed_versions()  # the tested libraries (helpers.versions.TESTED, from the lock)
    record = {"command": "python benchmarks/tfmot_tutorial.py" + (" --ablation" if args.ablation else ""),
              "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "seed": SEED, "quick_run": training.quick_run(), "versions": versions,
              "export": "results: dynamic-range (Optimize.DEFAULT, no representative data: int8 weights, "
                        "float32 activations, input and output), as the tutorial's guide exports; "
                        "results_course_export and ablation: full-integer int8, batch 1, names stripped "
                        "(helpers.pipeline.export_int8)",
              "results": results, "results_course_export": course_export}
    if args.ablation:
        record["ablation"] = ablation(args.out, verbose=verbose)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    for row in results + course_export:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
