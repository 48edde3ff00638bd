"""Notebook 04's record model with TFMOT's PCQAT (sparsity- and cluster-preserving QAT) instead of its
PQAT: the same trained and pruned model, then clustered and quantization-aware trained, exported the
same way (full-integer int8, batch of one, names stripped), for each seed.

    python benchmarks/pcqat.py --seeds 0 1 2 [--clusters 16] [--json benchmarks/results/pcqat.json]

Accuracy is LiteRT's on the validation split (the last 10% of the training images) and on the full
MNIST test set; sizes are bytes on disk and gzip -9.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import helpers  # noqa: E402,F401  (first: selects legacy Keras before TensorFlow loads)

ARMS = ("pqat", "clustered_ptq", "pcqat")


def run_seed(seed: int, clusters: int, progress: bool) -> dict:
    """Train notebook 04's recipe to its pruned, stripped model, then finish it three ways; measure each."""
    from helpers import pipeline
    from helpers.data import load_mnist
    from helpers.metrics import gzipped_size, tflite_accuracy
    from helpers.tflite_anatomy import most_codes_per_channel
    from helpers.training import as_float, set_seed

    start = time.perf_counter()
    recipe = pipeline.record_recipe()
    (x_train, y_train), (x_test, y_test) = load_mnist()
    n = recipe["train_images"] or len(x_train)
    x, y = as_float(x_train[:n]), y_train[:n]
    n_val = int(len(x) * recipe["validation_split"])
    x_val, y_val = x[-n_val:], y[-n_val:]
    common = dict(batch_size=recipe["batch_size"], validation_split=recipe["validation_split"],
                  augment=recipe["augment"], seed=seed, verbose=2 if progress else 0)
    set_seed(seed)
    model = pipeline.build_record_model(recipe)
    pipeline.fit_cosine(model, x, y, **recipe["float"], **common)
    stripped = pipeline.strip_pruning(pipeline.prune_and_fit(model, x, y, **recipe["prune"], **common))
    rep = x[:recipe["representative_images"]]
    pqat = pipeline.pqat_and_fit(stripped, x, y, **recipe["pqat"], **common)
    clustered = pipeline.cluster_and_fit(stripped, x, y, clusters, epochs=1, learning_rate=1e-4,
                                         skip=recipe["prune"]["skip"], **common)
    pcqat = pipeline.pqat_and_fit(clustered, x, y, **recipe["pqat"], **common, make_model=pipeline.pcqat_model)
    files = {"pqat": pipeline.export_int8(pqat, rep), "clustered_ptq": pipeline.export_int8(clustered, rep),
             "pcqat": pipeline.export_int8(pcqat, rep)}
    result = {"seed": seed, "clusters": clusters, "seconds": 0.0}
    for arm, data in files.items():
        result[arm] = {"validation_accuracy": tflite_accuracy(data, x_val, y_val),
                       "accuracy": tflite_accuracy(data, x_test, y_test), "bytes": len(data),
                       "gzipped_bytes": gzipped_size(data), "most_codes_per_channel": most_codes_per_channel(data)}
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run every seed, print one JSON line each, and optionally write them with their spread."""
    from helpers import versions
    from helpers.training import quick_run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--clusters", type=int, default=16, help="centroids per layer (default 16)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    parser.add_argument("--progress", action="store_true", help="show Keras' epoch lines")
    args = parser.parse_args(argv)
    if args.clusters < 2:
        parser.error(f"--clusters must be at least 2, got {args.clusters}")
    lines = []
    for seed in args.seeds:
        lines.append(run_seed(seed, args.clusters, args.progress))
        print(json.dumps(lines[-1]), flush=True)
    if args.json:
        mean = {arm: {key: statistics.fmean(line[arm][key] for line in lines) for key in lines[0][arm]}
                for arm in ARMS}
        args.json.write_text(json.dumps({
            "command": "python benchmarks/pcqat.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "date": datetime.date.today().isoformat(), "python": platform.python_version(),
            "versions": versions.installed_versions(), "quick_run": quick_run(),
            "seeds": lines, "mean": mean}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
