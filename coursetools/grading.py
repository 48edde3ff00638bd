"""Grade submissions without nbgrader: put the instructor's check cells back (hidden tests included),
run each submission to the end, and count the check cells that ran without an error.

`coursetools grade notebooks/ submissions/ --out graded/` grades every `*.ipynb` under
`submissions/` (any folder depth, e.g. one folder per learner) against the notebook of the same name
in `notebooks/`, writes the executed copies under `graded/` (same relative paths) and a
`graded/scores.csv` with one row per submission and exercise. Check cells are matched by their
nbgrader grade id, so a learner who edited or deleted a check cell gets the instructor's version.
"""

from __future__ import annotations

import argparse
import copy
import csv
from pathlib import Path

import nbformat

from coursetools.cli import UsageError


def _grade_id(cell) -> str | None:
    grader = cell.metadata.get("nbgrader", {})
    return grader.get("grade_id") if grader.get("grade") else None


def restore_checks(submission: nbformat.NotebookNode,
                   source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of `submission` whose check cells are the instructor's (from `source`), hidden tests
    included; a check cell the learner deleted is put back right after its answer cell."""
    restored = copy.deepcopy(submission)
    checks = {_grade_id(c): c for c in source.cells if _grade_id(c)}
    seen = set()
    for cell in restored.cells:
        grade_id = _grade_id(cell)
        if grade_id in checks:
            cell.source = checks[grade_id].source
            seen.add(grade_id)
    for grade_id in [g for g in checks if g not in seen]:
        answer_id = grade_id.removesuffix("_check")
        position = next((i + 1 for i, c in enumerate(restored.cells)
                         if c.metadata.get("nbgrader", {}).get("grade_id") == answer_id), None)
        if position is None:
            raise ValueError(f"the submission has neither the check cell {grade_id!r} nor its "
                             f"answer cell {answer_id!r}: is it a copy of this notebook?")
        restored.cells.insert(position, copy.deepcopy(checks[grade_id]))
    return restored


def check_results(executed: nbformat.NotebookNode) -> dict[str, float]:
    """Points earned per check cell of an executed notebook: all its points if it raised no error."""
    return {_grade_id(c): 0.0 if any(o.get("output_type") == "error" for o in c.get("outputs", []))
            else float(c.metadata["nbgrader"].get("points", 0))
            for c in executed.cells if _grade_id(c)}


def grade(submission_path: Path, source: nbformat.NotebookNode, out_path: Path,
          timeout_s: int = 900) -> dict[str, float]:
    """Restore the checks of one submission, execute it past errors, write it, return its points."""
    from nbclient import NotebookClient

    notebook = restore_checks(nbformat.read(submission_path, as_version=4), source)
    NotebookClient(notebook, timeout=timeout_s, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(submission_path.parent)}}).execute()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, out_path)
    return check_results(notebook)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `coursetools grade`."""
    parser.add_argument("source", type=Path, help="folder of the instructor's notebooks")
    parser.add_argument("submissions", type=Path, help="folder of the learners' notebooks")
    parser.add_argument("--out", type=Path, required=True, help="folder for graded copies")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")


def submission_paths(source: Path, submissions: Path) -> list[Path]:
    """Every notebook under `submissions`; UsageError when there is none, or one has no source."""
    paths = sorted(p for p in submissions.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not paths:
        raise UsageError(f"no .ipynb files under {submissions}")
    missing = sorted({p.name for p in paths if not (source / p.name).is_file()})
    if missing:
        raise UsageError(f"no instructor notebook in {source} for: {', '.join(missing)}")
    return paths


def run(args: argparse.Namespace) -> int:
    """Grade every submission and write graded copies and scores.csv."""
    submissions = submission_paths(args.source, args.submissions)
    sources = {name: nbformat.read(args.source / name, as_version=4)
               for name in {p.name for p in submissions}}
    rows = []
    for number, path in enumerate(submissions, start=1):
        relative = path.relative_to(args.submissions)
        points = grade(path, sources[path.name], args.out / relative, args.timeout)
        total = sum(check_results(sources[path.name]).values())  # no outputs: every point
        print(f"[{number}/{len(submissions)}] {relative}: {sum(points.values()):g} of {total:g} points",
              flush=True)
        rows += [{"submission": str(relative), "exercise": g, "points": p} for g, p in points.items()]
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "scores.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=["submission", "exercise", "points"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"scores: {args.out / 'scores.csv'}")
    return 0
