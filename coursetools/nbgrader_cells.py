"""nbgrader's cell metadata for the course's exercises, kept in step with the solution regions.

Every code cell with a solution region is an nbgrader *autograded answer*; the code cell after it
(the `helpers.checks` call) is a locked *autograder tests* cell worth one point. The grade ids are
derived from the exercise's function name (e.g. `01_dense_param_count`), so they stay stable when
cells move. `coursetools nbgrader` writes the metadata into every notebook under notebooks/;
`--check` only reports notebooks whose metadata differs (the test suite runs it).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import nbformat

from coursetools.assignments import solution_regions
from coursetools.paths import NOTEBOOK_DIR

POINTS_PER_EXERCISE = 1


def _answer_name(source: str, index: int) -> str:
    """The exercise's name: the first function it defines, else the first name it assigns."""
    match = re.search(r"^def (\w+)\(", source, re.MULTILINE) or \
        re.search(r"^(\w+)\s*=", source, re.MULTILINE)
    return match.group(1) if match else f"cell_{index}"


def exercise_cells(notebook: nbformat.NotebookNode) -> list[tuple[int, int]]:
    """(answer cell index, check cell index) of each exercise: a solution cell and the next code
    cell. ValueError when a solution cell has no code cell after it."""
    pairs = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and solution_regions(cell.source):
            following = [i for i in range(index + 1, len(notebook.cells))
                         if notebook.cells[i].cell_type == "code"]
            if not following:
                raise ValueError(f"cell {index} has a solution region but no check cell after it")
            pairs.append((index, following[0]))
    return pairs


def expected_metadata(notebook: nbformat.NotebookNode, stem: str) -> dict[int, dict]:
    """The nbgrader metadata each exercise cell of `notebook` should carry, by cell index."""
    prefix = stem.split("_")[0]
    wanted = {}
    for answer, check in exercise_cells(notebook):
        grade_id = f"{prefix}_{_answer_name(notebook.cells[answer].source, answer)}"
        wanted[answer] = {"grade": False, "grade_id": grade_id, "locked": False,
                          "schema_version": 3, "solution": True, "task": False}
        wanted[check] = {"grade": True, "grade_id": f"{grade_id}_check", "locked": True,
                         "points": POINTS_PER_EXERCISE, "schema_version": 3, "solution": False,
                         "task": False}
    ids = [m["grade_id"] for m in wanted.values()]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{stem}: two exercises share the grade id(s) {duplicates}")
    return wanted


def sync(notebook_dir: Path = NOTEBOOK_DIR, check_only: bool = False,
         paths: list[Path] | None = None) -> list[Path]:
    """Write the expected nbgrader metadata (and remove stale metadata) in every notebook, or only
    in `paths`; return the notebooks that differed."""
    differing = []
    for path in sorted(Path(notebook_dir).glob("*.ipynb")) if paths is None else map(Path, paths):
        notebook = nbformat.read(path, as_version=4)
        wanted = expected_metadata(notebook, path.stem)
        changed = False
        for index, cell in enumerate(notebook.cells):
            if cell.metadata.get("nbgrader") != wanted.get(index):
                changed = True
                if index in wanted:
                    cell.metadata["nbgrader"] = wanted[index]
                else:
                    cell.metadata.pop("nbgrader", None)
        if changed:
            differing.append(path)
            if not check_only:
                nbformat.write(notebook, path)
    return differing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `coursetools nbgrader`."""
    parser.add_argument("--check", action="store_true", help="report differences, change nothing")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="only these notebooks (default: every notebook in notebooks/)")


def run(args: argparse.Namespace) -> int:
    """Write nbgrader metadata into every notebook, or --check that it matches."""
    differing = sync(check_only=args.check, paths=args.notebooks or None)
    for path in differing:
        print(f"{'differs' if args.check else 'updated'}: {path}")
    if not differing:
        print("every exercise cell carries its nbgrader metadata")
    return 1 if args.check and differing else 0
