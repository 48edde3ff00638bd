"""Reproduce notebook 04's record: run its recipe (helpers.pipeline.train_record_model, the same
call the notebook makes) once per seed and print one JSON line per seed, then min / mean / max.

    python benchmarks/mnist_record.py --seeds 0 1 2 [--out outputs/benchmarks/mnist_record]
                                      [--json benchmarks/results/mnist_record.json]

Accuracy is LiteRT's on the full MNIST test set; sizes are bytes on disk and gzip -9.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import helpers  # noqa: E402  (first: selects legacy Keras before TensorFlow loads)

MODELS = ("int8", "ptq_int8", "int4")  # final (PQAT) int8, PTQ int8 for comparison, int4
FIGURES = ("accuracy", "bytes", "gzipped_bytes")


def seed_line(result: dict) -> dict:
    """The figures of one seed's run: accuracy, bytes, gzipped bytes of the int8 and int4 models."""
    line = {"seed": result["seed"]}
    for model in MODELS:
        line[model] = {key: result[model][key] for key in FIGURES}
    line["seconds"] = result["seconds"]
    return line


def spread(lines: list[dict]) -> dict:
    """Min / mean / max over the seeds of every figure of seed_line."""
    if not lines:
        raise ValueError("lines must hold at least one seed's figures, got none")
    summary: dict = {"seeds": [line["seed"] for line in lines]}
    for model in MODELS:
        summary[model] = {}
        for key in FIGURES:
            values = [line[model][key] for line in lines]
            summary[model][key] = {"min": min(values), "mean": statistics.fmean(values),
                                   "max": max(values)}
    return summary


def main(argv: list[str] | None = None) -> int:
    """Run the record recipe for each seed; print the JSON lines; optionally save them."""
    from helpers import pipeline, training

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=helpers.OUTPUT_DIR / "benchmarks",
                        help="folder for each seed's .tflite files (seed_N/ inside)")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write the lines and the spread to this JSON file")
    parser.add_argument("--progress", action="store_true", help="show Keras' epoch lines")
    args = parser.parse_args(argv)
    if any(seed < 0 for seed in args.seeds):
        parser.error(f"--seeds must be ints >= 0, got {args.seeds}")
    lines = []
    for seed in args.seeds:
        result = pipeline.train_record_model(args.out / f"seed_{seed}", seed=seed,
                                             progress=args.progress)
        lines.append(seed_line(result))
        print(json.dumps(lines[-1]), flush=True)
    total = spread(lines)
    print(json.dumps(total), flush=True)
    if args.json:
        import datetime

        from helpers.versions import installed_versions  # the tested libraries, from the lock

        args.json.parent.mkdir(parents=True, exist_ok=True)
        versions = installed_versions()
        args.json.write_text(json.dumps({
            "command": "python benchmarks/mnist_record.py --seeds "
                       + " ".join(map(str, args.seeds)),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "quick_run": training.quick_run(), "versions": versions,
            "recipe": pipeline.record_recipe(), "runs": lines, "spread": total}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
