"""Run notebook 05's compression search (helpers.search) at scale, with one or more workers.

    python benchmarks/search.py --trials 30                    # one worker, the default study file
    python benchmarks/search.py --trials 300 --workers 2       # two processes on one journal file
    python benchmarks/search.py --trials 50 --storage postgresql://user:pw@db-host/optuna \\
        --study-name mnist-compression-v1 --seed 7             # run this on each machine

Every run resumes the study if it exists (`load_if_exists`): trial counts add up. Each worker
gets its own sampler seed (seed + worker index), so workers do not propose identical trials. With
a file storage, a summary (trial count, date, library versions including Optuna's, image counts) is
written beside it as <storage>.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a clone without installing the helpers

import helpers  # noqa: E402  (sets the legacy-Keras flag before TensorFlow loads)
from helpers import search, versions  # noqa: E402

DEFAULT_STUDY = "mnist-compression-v1"


def default_storage() -> Path:
    """Where the course keeps its search study: <outputs>/05_applications/search/study.log."""
    return helpers.output_dir("05_applications") / "search" / "study.log"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python benchmarks/search.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, required=True, help="trials to add, in total")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--storage", default=None,
                        help="journal file path or database URL (default: outputs/05_applications/"
                             "search/study.log)")
    parser.add_argument("--study-name", default=DEFAULT_STUDY)
    parser.add_argument("--seed", type=int, default=0, help="sampler seed of worker 0")
    parser.add_argument("--cache-dir", default=None,
                        help="where base models are cached (default: beside the storage file)")
    parser.add_argument("--threads", type=int, default=None,
                        help="TensorFlow threads per worker (default: 1 when --workers > 1)")
    parser.add_argument("--val-images", type=int, default=5_000,
                        help="training images held out to score trials (default 5000)")
    parser.add_argument("--fine-images", type=int, default=6_000,
                        help="training images each trial fine-tunes on (default 6000)")
    parser.add_argument("--base-images", type=int, default=None,
                        help="training images for the base models (default: all not held out)")
    args = parser.parse_args(argv)
    for name in ("trials", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive integer, got {getattr(args, name)}")
    if args.workers > args.trials:
        parser.error(f"--workers ({args.workers}) cannot exceed --trials ({args.trials})")
    args.storage = args.storage or str(default_storage())
    if args.cache_dir is None:
        args.cache_dir = str(Path(args.storage).parent / "base_models") if "://" not in \
            args.storage else str(helpers.output_dir("05_applications") / "base_models")
    if args.threads is None and args.workers > 1:
        args.threads = 1
    return args


def limit_threads(threads: int | None) -> None:
    """Keep TensorFlow to `threads` threads, so parallel workers do not fight over the cores."""
    if threads:
        from helpers import tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def split(total: int, parts: int) -> list[int]:
    """`total` trials shared as evenly as possible among `parts` workers."""
    return [total // parts + (i < total % parts) for i in range(parts)]


def run(args: argparse.Namespace) -> dict:
    """Run the search (spawning workers if asked) and return a summary."""
    start = time.perf_counter()
    data = search.search_data(args.val_images, args.fine_images, args.base_images)
    if args.workers == 1:
        limit_threads(args.threads)
        added = search.run_worker(args.storage, args.study_name, args.trials, args.seed,
                                  args.cache_dir, data=data)
    else:
        # Base models are trained once, before the workers start, so none trains them twice; the
        # study (and a database's tables) is created once too: two workers creating the tables of
        # a fresh PostgreSQL database at the same moment fail with DuplicateTable (measured).
        for filters in search.FILTERS:
            search.base_model(filters, data, args.cache_dir)
        search.open_study(args.storage, args.study_name, args.seed)
        workers = [subprocess.Popen(
            [sys.executable, __file__, "--trials", str(n), "--storage", args.storage,
             "--study-name", args.study_name, "--seed", str(args.seed + i),
             "--cache-dir", args.cache_dir, "--threads", str(args.threads or 0),
             "--val-images", str(args.val_images), "--fine-images", str(args.fine_images),
             *(["--base-images", str(args.base_images)] if args.base_images else [])],
            stdout=subprocess.PIPE, text=True) for i, n in enumerate(split(args.trials, args.workers))]
        outputs = [worker.communicate()[0] for worker in workers]
        failed = [i for i, worker in enumerate(workers) if worker.returncode]
        if failed:
            raise RuntimeError(f"worker(s) {failed} failed; see their error output above")
        added = sum(json.loads(out.strip().splitlines()[-1])["added"] for out in outputs)
    study = search.open_study(args.storage, args.study_name, args.seed)
    complete = [t for t in study.trials if t.values is not None]
    summary = {"study_name": args.study_name, "added": added, "trials": len(study.trials),
               "complete": len(complete), "workers": args.workers,
               "seconds": round(time.perf_counter() - start, 1)}
    if "://" not in args.storage:
        import optuna

        Path(args.storage).with_suffix(".json").write_text(json.dumps({
            **summary, "date": datetime.date.today().isoformat(), "python": platform.python_version(),
            "versions": {**versions.installed_versions(), "optuna": optuna.__version__},
            "val_images": args.val_images, "fine_images": args.fine_images, "base_images": args.base_images,
            "command": " ".join(sys.argv),
        }, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(json.dumps(run(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
