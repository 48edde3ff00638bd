"""Student copies of the notebooks: solution regions replaced by a stub, outputs cleared.

`coursetools student notebooks/ --out student/` writes one student copy per notebook.
In every code cell, each region from a `### BEGIN SOLUTION` line to its `### END SOLUTION` line
becomes `# YOUR CODE HERE` and `raise NotImplementedError()` at the BEGIN line's indentation (the
nbgrader convention), and each `### BEGIN HIDDEN TESTS` … `### END HIDDEN TESTS` region is removed
(markers included), as nbgrader's release does. Markdown cells are kept as they are. Every notebook is checked before
anything is written, so a malformed marker leaves no output at all.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from coursetools.paths import ROOT
from coursetools.setup_cell import GITHUB_REPO, point_badges

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"


class MarkerError(ValueError):
    """A marker is malformed: BEGIN without END, END without BEGIN, nested or misspelt."""


def _marker_kind(line: str, begin: str, end: str, what: str) -> str | None:
    """'begin' or 'end' for an exact marker line, None for other lines; MarkerError if misspelt."""
    text = line.strip()
    if text == begin:
        return "begin"
    if text == end:
        return "end"
    if any(marker.removeprefix("### ") in text.upper() for marker in (begin, end)):
        raise MarkerError(f"line {text!r} looks like a {what} marker but is not exactly "
                          f"{begin!r} or {end!r} on a line of its own")
    return None


def _regions(source: str, begin_marker: str, end_marker: str, what: str) -> list[tuple[int, int]]:
    """(begin, end) line indices, both inclusive, of each marked region in a cell's source."""
    regions, begin = [], None
    for number, line in enumerate(source.split("\n")):
        try:
            kind = _marker_kind(line, begin_marker, end_marker, what)
        except MarkerError as error:
            raise MarkerError(f"line {number + 1}: {error}") from None
        if kind == "begin" and begin is not None:
            raise MarkerError(f"line {number + 1}: nested {begin_marker!r} (the region opened on "
                              f"line {begin + 1} has no {end_marker!r} before it)")
        if kind == "end" and begin is None:
            raise MarkerError(f"line {number + 1}: {end_marker!r} without a {begin_marker!r} "
                              "before it")
        if kind == "begin":
            begin = number
        elif kind == "end":
            regions.append((begin, number))
            begin = None
    if begin is not None:
        raise MarkerError(f"line {begin + 1}: {begin_marker!r} without a matching {end_marker!r}")
    return regions


def solution_regions(source: str) -> list[tuple[int, int]]:
    """(begin, end) line indices, both inclusive, of each solution region in a cell's source."""
    return _regions(source, BEGIN, END, "solution")


def hidden_test_regions(source: str) -> list[tuple[int, int]]:
    """(begin, end) line indices, both inclusive, of each hidden-tests region in a cell's source."""
    return _regions(source, BEGIN_HIDDEN, END_HIDDEN, "hidden-tests")


def strip_solutions(source: str) -> str:
    """The cell source with every solution region replaced by the indented stub."""
    lines = source.split("\n")
    regions = solution_regions(source)
    for begin, end in reversed(regions):
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        lines[begin:end + 1] = [indent + stub for stub in STUB]
    return "\n".join(lines)


def strip_hidden_tests(source: str) -> str:
    """The cell source without its hidden-tests regions (markers included), as nbgrader releases it."""
    lines = source.split("\n")
    for begin, end in reversed(hidden_test_regions(source)):
        del lines[begin:end + 1]
    return "\n".join(lines)


def student_notebook(notebook: nbformat.NotebookNode, name: str = "notebook",
                     badge_path: str | None = None) -> nbformat.NotebookNode:
    """A student copy of `notebook`: code cells stripped of solutions, outputs cleared, and its
    Colab badge opening `badge_path` (the copy's own path in the repository) when given."""
    student = copy.deepcopy(notebook)
    student.metadata.pop("widgets", None)  # saved widget state is output too
    if badge_path and student.cells and student.cells[0].cell_type == "markdown":
        student.cells[0].source = point_badges(student.cells[0].source, GITHUB_REPO, badge_path)
    for index, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        try:
            cell.source = strip_hidden_tests(strip_solutions(cell.source))
        except MarkerError as error:
            raise MarkerError(f"{name}, cell {index}: {error}") from None
        cell.outputs = []
        cell.execution_count = None
    return student


def notebook_paths(source: Path | str) -> list[Path]:
    """The notebooks to convert: `source` itself if it is a .ipynb file, else its *.ipynb files."""
    source = Path(source)
    if source.is_file() and source.suffix == ".ipynb":
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"source {str(source)!r} is neither a folder nor a .ipynb file")
    paths = sorted(source.glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"source folder {str(source)!r} holds no .ipynb notebooks")
    return paths


def _validate_out_dir(out: Path, sources: list[Path], force: bool) -> None:
    """Refuse an `out` that would mix with stale files, or whose replacement deletes sources."""
    out_resolved = out.resolve()
    for path in sources:
        if out_resolved == path.parent.resolve() or out_resolved in path.resolve().parents:
            raise ValueError(f"out {str(out)!r} contains the source notebook {str(path)!r}; "
                             "choose a separate folder such as student/")
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"out {str(out)!r} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise FileExistsError(f"out folder {str(out)!r} exists and is not empty; pass --force "
                              "(force=True) to replace it entirely, or choose another folder")
    entries = list(out.iterdir()) if out.is_dir() else []
    others = sorted(p.name for p in entries if not _is_notebook_entry(p))
    if others:
        raise FileExistsError(
            f"out folder {str(out)!r} holds more than notebooks ({', '.join(others[:3])}"
            f"{', ...' if len(others) > 3 else ''}); --force only replaces a folder of notebooks, "
            "so choose another folder or empty this one yourself")


def _is_notebook_entry(path: Path) -> bool:
    """True for what a folder of student copies may hold: .ipynb files and Jupyter checkpoints."""
    if path.name == ".ipynb_checkpoints":
        return path.is_dir()
    return path.is_file() and path.suffix == ".ipynb"


def badge_folder(out: Path) -> str:
    """The student copies' folder as the Colab badge names it: relative to the repository root
    when `out` lies inside it (e.g. 'student'), else just the folder's name."""
    resolved = Path(out).resolve()
    if resolved.is_relative_to(ROOT.resolve()):
        return resolved.relative_to(ROOT.resolve()).as_posix()
    return resolved.name


def make_student_copies(source: Path | str, out: Path | str, force: bool = False) -> list[Path]:
    """Write a student copy of every notebook in `source` into `out`; return the written paths.

    All notebooks are converted in memory first, then written to a temporary folder that replaces
    `out` only when everything succeeded. An existing non-empty `out` is refused unless `force`,
    which replaces it entirely (no stale files survive); `force` never deletes a folder that
    holds anything but notebooks, nor one that holds the sources.
    """
    paths, out = notebook_paths(source), Path(out)
    _validate_out_dir(out, paths, force)
    folder = badge_folder(out)
    students = {path.name: student_notebook(nbformat.read(path, as_version=4), path.name,
                                            f"{folder}/{path.name}")
                for path in paths}
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
    try:
        for name, notebook in students.items():
            nbformat.write(notebook, staging / name)
        _replace_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / name for name in students]


def _replace_dir(new: Path, out: Path) -> None:
    """Move the folder `new` to `out`, replacing whatever `out` held; restore `out` on failure."""
    if not out.exists():
        new.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
    old.rmdir()
    out.rename(old)
    try:
        new.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old)


def count_regions(notebook: nbformat.NotebookNode) -> int:
    """Number of solution regions in the notebook's code cells."""
    return sum(len(solution_regions(cell.source))
               for cell in notebook.cells if cell.cell_type == "code")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `coursetools student`."""
    parser.add_argument("source", help="a folder of notebooks (e.g. notebooks/) or one .ipynb file")
    parser.add_argument("--out", required=True,
                        help="folder for the student copies (e.g. student/)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing --out folder of notebooks entirely")


def run(args: argparse.Namespace) -> int:
    """Write student copies; exit 0 on success, 1 with a message on any error."""
    try:
        written = make_student_copies(args.source, args.out, force=args.force)
    except (MarkerError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        print("nothing was written.", file=sys.stderr)
        return 1
    for source_path, path in zip(notebook_paths(args.source), written, strict=True):
        regions = count_regions(nbformat.read(source_path, as_version=4))
        print(f"wrote {path} ({regions} solution region{'s' * (regions != 1)} replaced)")
    return 0
