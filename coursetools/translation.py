"""The Chinese edition's notebooks, kept in step with the English ones cell by cell.

Each notebook `notebooks/NAME.ipynb` has a translation `notebooks_zh/NAME.ipynb` with the same cells
in the same order and with the same cell ids. Code cells are copies of the English ones (so both
editions run the same code). Each translated markdown cell records, in its metadata
(`metadata.translation.en`), the English text it translates; when the English cell changes, the
recorded text no longer matches and `check` shows what changed in English.

    coursetools translate sync              # add, move, remove cells; copy code cells
    coursetools translate check             # report what is stale, untranslated or differs
    coursetools translate mark NOTEBOOK ID  # after translating cell ID: record its English text

A translator edits a markdown cell of `notebooks_zh/NAME.ipynb` (in JupyterLab or any editor), then
runs `mark` for it. `sync` never touches a translated cell's text. Hand-written: no library keeps
notebook translations per cell (gettext catalogs work per paragraph and lose the notebook's cells,
ids and metadata).
"""

from __future__ import annotations

import argparse
import copy
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from coursetools.cli import UsageError
from coursetools.paths import NOTEBOOK_DIR, ROOT, ZH_NOTEBOOK_DIR

KEY = "translation"  # markdown cell metadata: {"en": the English text this cell translates}
CJK = re.compile(r"[\u3400-\u9fff]")
# What is not prose in a markdown cell: code spans and blocks, math, links' targets, HTML tags.
NOT_PROSE = re.compile(r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|\]\([^)]*\)|<[^>]+>|https?://\S+", re.DOTALL)


@dataclass(frozen=True)
class Problem:
    """One way a translated notebook is out of step with its English original."""

    notebook: str
    cell_id: str
    kind: str  # "structure", "code", "metadata", "untranslated", "stale", "no Chinese"
    detail: str = ""

    def __str__(self) -> str:
        head = f"{self.notebook}: cell {self.cell_id}: {self.kind}"
        return f"{head}\n{self.detail}" if self.detail else head


def is_prose(text: str) -> bool:
    """Whether markdown `text` holds English words a reader must be given in Chinese (3 or more)."""
    return len(re.findall(r"[A-Za-z]{2,}", NOT_PROSE.sub(" ", text))) >= 3


def _code_copy(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of an English non-markdown cell as the translation holds it (outputs cleared)."""
    cell = copy.deepcopy(cell)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def synced(english: nbformat.NotebookNode, chinese: nbformat.NotebookNode | None) -> nbformat.NotebookNode:
    """The translation of `english` rebuilt from `chinese`: English structure and code, and every
    markdown translation kept by cell id (its metadata refreshed from English, its record kept)."""
    kept = {cell.id: cell for cell in (chinese.cells if chinese else []) if cell.cell_type == "markdown"}
    result = copy.deepcopy(english)
    cells = []
    for cell in english.cells:
        if cell.cell_type != "markdown":
            cells.append(_code_copy(cell))
        elif cell.id in kept:
            translated = copy.deepcopy(cell)
            translated.source = kept[cell.id].source
            if KEY in kept[cell.id].metadata:
                translated.metadata[KEY] = kept[cell.id].metadata[KEY]
            cells.append(translated)
        else:
            cells.append(copy.deepcopy(cell))  # untranslated until someone translates and marks it
    result.cells = cells
    result.metadata["course_language"] = "zh-CN"
    return result


def problems(english: nbformat.NotebookNode, chinese: nbformat.NotebookNode, name: str) -> list[Problem]:
    """Everything that keeps `chinese` from being a complete, current translation of `english`."""
    en_ids = [cell.id for cell in english.cells]
    zh_ids = [cell.id for cell in chinese.cells]
    if en_ids != zh_ids:
        missing = [i for i in en_ids if i not in zh_ids]
        extra = [i for i in zh_ids if i not in en_ids]
        detail = f"missing {missing}, extra {extra}" if missing or extra else "the same cells in another order"
        return [Problem(name, "*", "structure", f"{detail}; run `coursetools translate sync`")]
    found = []
    for en, zh in zip(english.cells, chinese.cells, strict=True):
        if en.cell_type != "markdown":
            if zh.cell_type != en.cell_type or zh.source != en.source or zh.metadata != en.metadata:
                found.append(Problem(name, en.id, "code", "differs from the English cell; run "
                                     "`coursetools translate sync` (code is copied, never translated)"))
            continue
        record = zh.metadata.get(KEY, {}).get("en")
        if zh.cell_type != "markdown":
            found.append(Problem(name, en.id, "structure", f"a {zh.cell_type} cell where English has markdown"))
        elif {k: v for k, v in zh.metadata.items() if k != KEY} != en.metadata:
            found.append(Problem(name, en.id, "metadata", "tags or other metadata differ from English; run "
                                 "`coursetools translate sync`"))
        elif record is None:
            found.append(Problem(name, en.id, "untranslated", _excerpt(en.source)))
        elif record != en.source:
            diff = difflib.unified_diff(record.splitlines(), en.source.splitlines(),
                                        "English when translated", "English now", lineterm="")
            found.append(Problem(name, en.id, "stale", "\n".join(diff)))
        elif is_prose(en.source) and not CJK.search(zh.source):
            found.append(Problem(name, en.id, "no Chinese", "marked as translated but the text is not Chinese"))
    return found


def _excerpt(text: str, width: int = 100) -> str:
    """The first line of `text`, shortened to `width` characters."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[:width - 1] + "…"


def mark(chinese: nbformat.NotebookNode, english: nbformat.NotebookNode, cell_ids: list[str]) -> None:
    """Record, for each markdown cell in `cell_ids`, the current English text as the one it translates."""
    english_by_id = {cell.id: cell for cell in english.cells}
    chinese_by_id = {cell.id: cell for cell in chinese.cells}
    for cell_id in cell_ids:
        if cell_id not in chinese_by_id or cell_id not in english_by_id:
            raise ValueError(f"no cell {cell_id!r} in both editions (run `coursetools translate sync` first)")
        if chinese_by_id[cell_id].cell_type != "markdown":
            raise ValueError(f"cell {cell_id!r} is a {chinese_by_id[cell_id].cell_type} cell: only markdown is "
                             "translated")
        chinese_by_id[cell_id].metadata[KEY] = {"en": english_by_id[cell_id].source}


def pairs(names: list[str] | None = None, english_dir: Path = NOTEBOOK_DIR,
          chinese_dir: Path = ZH_NOTEBOOK_DIR) -> list[tuple[Path, Path]]:
    """(English path, Chinese path) of the named notebooks (default: every English notebook)."""
    english = sorted(Path(english_dir).glob("*.ipynb"))
    if names:
        wanted = {Path(name).name for name in names}
        unknown = wanted - {path.name for path in english}
        if unknown:
            raise ValueError(f"no English notebook {sorted(unknown)} in {english_dir}")
        english = [path for path in english if path.name in wanted]
    return [(path, Path(chinese_dir) / path.name) for path in english]


def sync_files(names: list[str] | None = None, english_dir: Path = NOTEBOOK_DIR,
               chinese_dir: Path = ZH_NOTEBOOK_DIR) -> list[Path]:
    """Bring each translation's structure and code in line with English; return the files changed."""
    changed = []
    Path(chinese_dir).mkdir(exist_ok=True)
    for en_path, zh_path in pairs(names, english_dir, chinese_dir):
        english = nbformat.read(en_path, as_version=4)
        chinese = nbformat.read(zh_path, as_version=4) if zh_path.exists() else None
        result = synced(english, chinese)
        if chinese is None or nbformat.writes(result) != nbformat.writes(chinese):
            nbformat.write(result, zh_path)
            changed.append(zh_path)
    return changed


def check_files(names: list[str] | None = None, english_dir: Path = NOTEBOOK_DIR,
                chinese_dir: Path = ZH_NOTEBOOK_DIR) -> list[Problem]:
    """Every problem of every translation (a missing translation is one problem)."""
    found = []
    for en_path, zh_path in pairs(names, english_dir, chinese_dir):
        if not zh_path.exists():
            found.append(Problem(zh_path.name, "*", "structure", f"{zh_path} is missing; run "
                                 "`coursetools translate sync`"))
            continue
        english = nbformat.read(en_path, as_version=4)
        found += problems(english, nbformat.read(zh_path, as_version=4), zh_path.name)
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `coursetools translate`."""
    parser.add_argument("action", choices=["sync", "check", "mark"])
    parser.add_argument("notebook", nargs="?", help="one notebook's file name (default: all); required for mark")
    parser.add_argument("cell_ids", nargs="*", metavar="CELL_ID", help="mark: the cells just translated")
    parser.add_argument("--all-translated", action="store_true",
                        help="mark: every markdown cell of the notebook that holds Chinese or needs none")


def run(args: argparse.Namespace) -> int:
    """Sync, check or mark the Chinese notebooks."""
    names = [args.notebook] if args.notebook else None
    try:
        if args.action == "sync":
            for path in sync_files(names):
                print(f"updated: {path.relative_to(ROOT)}")
            return 0
        if args.action == "check":
            found = check_files(names)
            for problem in found:
                print(problem)
            kinds = sorted({p.kind for p in found})
            print(f"{len(found)} problem(s) ({', '.join(kinds)})" if found else "the Chinese edition is in step")
            return 1 if found else 0
        if not args.notebook or not (args.cell_ids or args.all_translated):
            raise UsageError("mark needs a notebook and cell ids (or --all-translated)")
        [(en_path, zh_path)] = pairs(names)
        english, chinese = nbformat.read(en_path, as_version=4), nbformat.read(zh_path, as_version=4)
        ids = list(args.cell_ids)
        if args.all_translated:
            english_by_id = {cell.id: cell for cell in english.cells}
            ids += [zh.id for zh in chinese.cells if zh.cell_type == "markdown" and zh.id in english_by_id
                    and (CJK.search(zh.source) or not is_prose(english_by_id[zh.id].source))]
        mark(chinese, english, ids)
        nbformat.write(chinese, zh_path)
        print(f"marked {len(ids)} cell(s) of {zh_path.relative_to(ROOT)} as translating the current English")
        return 0
    except (ValueError, FileNotFoundError) as error:
        raise UsageError(str(error)) from None
