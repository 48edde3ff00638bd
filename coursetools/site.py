"""The course as a web site: `coursetools site` builds it into build/site/html/ (git-ignored).

One command, offline, warnings are errors. The steps, each a function below:

1. **Execute once, reuse.** Every notebook's executed copy comes from a jupyter-cache at
   build/site/jupyter_cache/, keyed on the committed notebook itself (its code cells and their
   metadata: jupyter-cache's own hash) and on a fingerprint of what the code reads (helpers/,
   data/mnist.npz, benchmarks/results/, requirements.txt). A miss executes the notebook from a clean kernel in
   notebooks/ (jupyter-cache's `single_nb_execution`, as myst-nb's "cache" mode does) and stores
   it; a notebook that fails stops the build with its name and the failing cell. A prose edit
   changes no key, so a rebuild takes seconds. The standalone check (`pytest tests -m standalone`)
   stores the notebooks it executes in the same cache (`coursetools.site_cache`, a pytest
   plugin), so CI executes the course for the site no third time.
   Why not myst-nb's own "cache" mode: it hashes the page's notebook, but the page shows a
   transformed copy (solutions tagged, hidden tests removed, alt text added) whose hash is not the
   committed notebook's, so the standalone check's executions would never match.
2. **Pages.** The executed notebook becomes its page (`page_notebook`): each nbgrader solution
   cell collapsed behind "Show solution", hidden-test regions removed, progress-bar widgets
   dropped, carriage-return debris collapsed, alt text on every plot, links to files outside the
   site pointed at GitHub, and a line of links (student copy, this notebook, source on GitHub).
   README.md becomes the landing page (syllabus, results), its "For instructors" section a page
   of its own, plus data/README.md and the license.
3. **Sphinx** (myst-nb, sphinx-book-theme; configured here, no conf.py: the configuration is a
   function of the edition, which a later Chinese edition builds again into html/zh/) with
   execution off, stderr removed, MathJax served from the site (vendored in site_static/, no CDN),
   the Colab badge image served locally, and `warningiserror` (sphinx-build -W).
4. **Links.** `broken_links` checks every internal link, script, stylesheet and image of the
   built HTML (fragments included) and that nothing is loaded from another host.

View it with `python -m http.server -d build/site/html` and http://127.0.0.1:8000.

**Editions.** The English edition is built into html/; when the Chinese notebooks (notebooks_zh/,
kept in step by `coursetools translate`) and README.zh-CN.md exist, the Chinese edition is built the
same way into html/zh/, with Sphinx's Chinese interface and its own search index. Its code cells are
the English ones, so jupyter-cache (which hashes a notebook's code) serves it the English executions:
the course is executed once for both. Every page of either edition starts with a link to its
counterpart in the other (a plain link, no JavaScript; the link check proves each one resolves).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import html.parser
import io
import logging
import os
import posixpath
import re
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

from coursetools.assignments import strip_hidden_tests, student_notebook
from coursetools.paths import NOTEBOOK_DIR, README, ROOT, ZH_NOTEBOOK_DIR, ZH_README
from coursetools.setup_cell import BADGE_IMAGE, GITHUB_REPO

SITE_DIR = ROOT / "build" / "site"
HTML_DIR = SITE_DIR / "html"
CACHE_DIR = SITE_DIR / "jupyter_cache"
SCREENSHOT_DIR = SITE_DIR / "screenshots"
STATIC_DIR = Path(__file__).with_name("site_static")
MATHJAX = "mathjax/tex-chtml-full.js"  # under STATIC_DIR; the full TeX bundle: no extension is fetched later
BADGE = "colab-badge.svg"  # under STATIC_DIR: the Colab badge, copied among the sources (Sphinx serves it)
# What the notebooks' code reads besides the notebook: a change here re-executes every notebook.
EXECUTION_INPUTS = ("helpers", "data/mnist.npz", "benchmarks/results", "requirements.txt")
EXECUTION_TIMEOUT_S = 900  # per cell, as the test command's nbval
CACHE_LIMIT = 60  # executions kept (the oldest go first): a few generations of every notebook
WIDGET = "application/vnd.jupyter.widget-view+json"
SITE_EXTRA = {"sphinx", "myst_nb", "sphinx_book_theme", "jupyter_cache", "jieba"}


@dataclass(frozen=True)
class Edition:
    """One language edition of the site: its sources, the folder it is built into, and its words."""

    language: str  # Sphinx's language code (its interface strings)
    name: str  # the edition's name in its own language, for the switcher
    notebook_dir: Path
    readme: Path
    prefix: str  # its folder under html/ ("" for the main edition)
    words: dict[str, str]

    @property
    def state_suffix(self) -> str:
        """What this edition's Sphinx sources and doctrees folders add to their names ("" or "_zh")."""
        return f"_{self.prefix}" if self.prefix else ""

    def present(self) -> bool:
        """Whether this edition's notebooks and README exist in the checkout."""
        return self.readme.is_file() and any(self.notebook_dir.glob("*.ipynb"))


ENGLISH = Edition("en", "English", NOTEBOOK_DIR, README, "", {
    "title": "Model Optimization in Practice",
    "show": "Show solution", "hide": "Hide solution", "figure": "Figure for “{heading}”",
    "instructors": "## For instructors", "instructors_title": "# For instructors",
    "instructors_pointer": "The instructors' guide — student copies, checks, hidden tests and grading — has "
                           "[its own page](instructors.md).",
    "lessons": "Lessons", "reference": "Reference", "license": "License",
    "get": "Get this lesson:", "student": "student copy (exercises without solutions)",
    "notebook": "this notebook with outputs (.ipynb)", "source": "source on GitHub",
    "other": "This page in English"})
CHINESE = Edition("zh_CN", "中文", ZH_NOTEBOOK_DIR, ZH_README, "zh", {
    "title": "模型优化实战",
    "show": "显示答案", "hide": "隐藏答案", "figure": "“{heading}”一节的插图",
    "instructors": "## 教师指南", "instructors_title": "# 教师指南",
    "instructors_pointer": "教师指南（学生版、检查、隐藏测试与评分）见[单独的页面](instructors.md)。",
    "lessons": "课程", "reference": "参考", "license": "许可证",
    "get": "获取本课：", "student": "学生版（练习不含答案）", "notebook": "含输出的本笔记本（.ipynb）",
    "source": "GitHub 上的源文件", "other": "本页中文版"})
EDITIONS = (ENGLISH, CHINESE)


class SiteError(Exception):
    """The site cannot be built: a notebook failed to execute, Sphinx warned, or a link is broken."""


# --- 1. executed notebooks, from the cache ----------------------------------------------------------

def execution_fingerprint(root: Path = ROOT) -> str:
    """SHA-256 over the files a notebook's code reads (EXECUTION_INPUTS under `root`), by path and content."""
    digest = hashlib.sha256()
    for name in EXECUTION_INPUTS:
        base = Path(root) / name
        files = sorted(base.rglob("*")) if base.is_dir() else [base]
        for path in files:
            parts = path.relative_to(root).parts
            if path.is_file() and not any(part == "__pycache__" or part.startswith(".") for part in parts):
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def open_cache(cache_dir: Path = CACHE_DIR):
    """The jupyter-cache at `cache_dir` (created when missing)."""
    jupyter_cache = _site_import("jupyter_cache")
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    cache = jupyter_cache.get_cache(str(cache_dir))
    if cache.get_cache_limit() != CACHE_LIMIT:
        cache.change_cache_limit(CACHE_LIMIT)
    return cache


def cached_notebook(cache, notebook: nbformat.NotebookNode, fingerprint: str) -> nbformat.NotebookNode | None:
    """`notebook` with the outputs of its cached execution, or None when there is none for `fingerprint`."""
    try:
        record = cache.match_cache_notebook(notebook)
    except KeyError:
        return None
    if record.data.get("fingerprint") != fingerprint:
        return None
    return cache.merge_match_into_notebook(notebook)[1]


def store_executed(cache, notebook: nbformat.NotebookNode, uri: str, fingerprint: str, seconds: float) -> None:
    """Store an executed `notebook` in the cache under its own hash and `fingerprint`."""
    bundle = _site_import("jupyter_cache.base").CacheBundleIn(
        notebook, uri, data={"fingerprint": fingerprint, "execution_seconds": round(seconds, 1)})
    cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)


@contextlib.contextmanager
def _full_size_run() -> Iterator[None]:
    """Run kernels without COURSE_QUICK (the site shows the full run's numbers) and with the default outputs/."""
    saved = {name: os.environ.pop(name) for name in ("COURSE_QUICK", "COURSE_OUTPUT_DIR") if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def execute(path: Path, timeout: int = EXECUTION_TIMEOUT_S) -> tuple[nbformat.NotebookNode, float]:
    """Execute the notebook at `path` from a clean kernel in its folder; SiteError naming it if a cell fails."""
    single_nb_execution = _site_import("jupyter_cache.executors.utils").single_nb_execution
    notebook = nbformat.read(path, as_version=4)
    with _full_size_run():
        result = single_nb_execution(notebook, cwd=str(Path(path).parent), timeout=timeout, allow_errors=False)
    if result.err is not None:
        raise SiteError(f"notebook {Path(path).name} failed to execute: {_error_summary(result.err)}")
    return result.nb, result.time


def _error_summary(error: Exception) -> str:
    """Which cell failed (its first line) and the exception, from nbclient's CellExecutionError."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    parts = text.split("-" * 18)
    cell = parts[1].strip().splitlines()[0] if len(parts) > 2 and parts[1].strip() else "?"
    ename, evalue = getattr(error, "ename", type(error).__name__), getattr(error, "evalue", text[-300:])
    return f"the cell starting {cell!r} raised {ename}: {evalue}"


def _first_lines(text: str, count: int) -> str:
    """The first `count` lines of `text` (Sphinx's warnings), without ANSI colours."""
    return "\n".join(re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()[:count])


def executed_notebooks(paths: list[Path], cache_dir: Path = CACHE_DIR, execute_missing: bool = True,
                       log=print) -> dict[str, nbformat.NotebookNode]:
    """Every notebook in `paths` with its outputs, by file name: from the cache, else executed (and stored)."""
    cache, fingerprint, executed = open_cache(cache_dir), execution_fingerprint(), {}
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        found = cached_notebook(cache, notebook, fingerprint)
        if found is None:
            if not execute_missing:
                raise SiteError(f"notebook {path.name} has no cached execution for the current code and "
                                "helpers (run without --cached-only to execute it)")
            log(f"executing {path.name} (not in {cache_dir}) ...")
            ran, seconds = execute(path)
            store_executed(cache, ran, str(path), fingerprint, seconds)
            log(f"executed {path.name} in {seconds:.0f} s")
            found = cached_notebook(cache, notebook, fingerprint)
        executed[path.name] = found
    return executed


# --- 2. pages ---------------------------------------------------------------------------------------

def is_solution(cell: nbformat.NotebookNode) -> bool:
    """Whether `cell` is an exercise's solution cell (nbgrader's `solution` metadata)."""
    return cell.cell_type == "code" and bool(cell.metadata.get("nbgrader", {}).get("solution"))


def collapse_solution(cell: nbformat.NotebookNode, edition: Edition = ENGLISH) -> None:
    """Tag a solution cell so that its code is collapsed behind a 'Show solution' control (outputs stay)."""
    tags = cell.metadata.setdefault("tags", [])
    if "hide-input" not in tags:
        tags.append("hide-input")
    cell.metadata.setdefault("mystnb", {})["code_prompt_show"] = edition.words["show"]
    cell.metadata["mystnb"]["code_prompt_hide"] = edition.words["hide"]


def without_carriage_returns(text: str) -> str:
    """`text` as a terminal shows it: backspaces applied, each line keeps what followed its last carriage return."""
    lines = []
    for line in text.split("\n"):
        kept: list[str] = []
        for char in line:
            if char == "\b":
                kept = kept[:-1]
            else:
                kept.append(char)
        parts = [part for part in "".join(kept).split("\r") if part]
        lines.append(parts[-1] if parts else "")
    return "\n".join(lines)


def clean_outputs(outputs: list) -> list:
    """The outputs a reader should see: widgets (progress bars) dropped, streams merged and collapsed."""
    kept = []
    for output in outputs:
        if WIDGET in output.get("data", {}):
            continue
        if output.output_type == "stream" and kept and kept[-1].output_type == "stream" \
                and kept[-1].name == output.name:
            kept[-1].text += output.text
            continue
        kept.append(copy.deepcopy(output))
    for output in kept:
        if output.output_type == "stream":
            output.text = without_carriage_returns(output.text)
    return [o for o in kept if o.output_type != "stream" or o.text.strip()]


_LABEL_CALL = re.compile(r"\b(suptitle|set_title|title|set_xlabel|xlabel|set_ylabel|ylabel)\(\s*[rfb]*(['\"])(.+?)\2")


def figure_words(source: str) -> list[str]:
    """The titles and axis labels a plotting cell sets (string literals; f-string fields left out)."""
    kinds = {"suptitle": "title", "set_title": "title", "title": "title", "set_xlabel": "x axis",
             "xlabel": "x axis", "set_ylabel": "y axis", "ylabel": "y axis"}
    words = []
    for kind, _, text in _LABEL_CALL.findall(source):
        text = re.sub(r"\{[^}]*\}", "…", text).replace("\\n", " ").strip()
        if text and f"{kinds[kind]}: {text}" not in words:
            words.append(f"{kinds[kind]}: {text}")
    return words


def alt_text(source: str, heading: str, edition: Edition = ENGLISH) -> str:
    """Alt text for a cell's images: the section it illustrates, then its titles and axis labels."""
    words = figure_words(source)
    comment = next((line.lstrip("# ").strip() for line in source.splitlines() if line.startswith("#")), "")
    details = "; ".join(words) if words else comment
    return edition.words["figure"].format(heading=heading) + (f" — {details}" if details else "")


def _heading(markdown: str) -> str | None:
    """The text of the last heading in a markdown cell, without markup, or None."""
    found = re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", markdown, flags=re.MULTILINE)
    return re.sub(r"[*_`]", "", found[-1]) if found else None


def github_url(repo_path: str, repo: str = GITHUB_REPO) -> str:
    """The GitHub page of `repo_path` (a file or a folder of the repository, posix, relative)."""
    kind = "tree" if (ROOT / repo_path).is_dir() else "blob"
    return f"https://github.com/{repo}/{kind}/main/{repo_path.rstrip('/')}"


_LINK = re.compile(r"(\]\()(<?)([^)\s>]+)(>?)(\s+\"[^\"]*\")?(\))")


def point_links(markdown: str, page: str, site_paths: dict[str, str], repo: str = GITHUB_REPO) -> str:
    """Rewrite the relative links of `markdown` (on the page for repository file `page`): a file the
    site has becomes its page, anything else its GitHub page; the Colab badge image comes from the site."""
    depth = page.count("/")
    badge = "../" * depth + BADGE

    def fix(match: re.Match) -> str:
        target = match.group(3)
        if target == BADGE_IMAGE:
            target = badge
        elif not urlsplit(target).scheme and not target.startswith(("#", "/", "mailto:")):
            path, _, fragment = target.partition("#")
            repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(path)))
            if repo_path in site_paths:
                target = posixpath.relpath(site_paths[repo_path], posixpath.dirname(page) or ".")
            else:
                target = github_url(repo_path, repo)
            target += f"#{fragment}" if fragment else ""
        return f"{match.group(1)}{match.group(2)}{target}{match.group(4)}{match.group(5) or ''}{match.group(6)}"

    return _LINK.sub(fix, markdown)


def links_cell(name: str, folder: str, repo: str = GITHUB_REPO, edition: Edition = ENGLISH) -> nbformat.NotebookNode:
    """The line of links under a lesson's title: student copy, this notebook, source on GitHub."""
    words = edition.words
    return nbformat.v4.new_markdown_cell(
        f"**{words['get']}** [{words['student']}](path:../student/{name}) · "
        f"[{words['notebook']}](path:{name}) · "
        f"[{words['source']}]({github_url(f'{folder}/{name}', repo)})")


def counterpart(document: str, edition: Edition, other: Edition) -> str:
    """The page of `other` edition that matches `edition`'s `document` (a Sphinx document name)."""
    folder, other_folder = edition.notebook_dir.name, other.notebook_dir.name
    if document.startswith(f"{folder}/"):
        candidate = f"{other_folder}/{document.removeprefix(folder + '/')}"
        return candidate if (other.notebook_dir / f"{Path(candidate).name}.ipynb").is_file() else "index"
    return document


def switch_line(document: str, edition: Edition, editions: tuple[Edition, ...]) -> str:
    """A paragraph of plain links from `document` to its counterpart in each other edition being built."""
    here = posixpath.join(edition.prefix, f"{document}.html")
    links = []
    for other in editions:
        if other is not edition:
            there = posixpath.join(other.prefix, f"{counterpart(document, edition, other)}.html")
            href = posixpath.relpath(there, posixpath.dirname(here) or ".")
            links.append(f'<a class="language-switch" lang="{other.language.replace("_", "-")}" '
                         f'href="{href}">{other.words["other"]}</a>')
    return f'<p class="language-switch">🌐 {" · ".join(links)}</p>\n\n' if links else ""


def page_notebook(executed: nbformat.NotebookNode, name: str, site_paths: dict[str, str],
                  folder: str = "notebooks", repo: str = GITHUB_REPO, edition: Edition = ENGLISH,
                  editions: tuple[Edition, ...] = (ENGLISH,)) -> nbformat.NotebookNode:
    """The page version of an executed notebook (see the module's docstring, step 2)."""
    page = copy.deepcopy(executed)
    page.metadata.pop("widgets", None)  # saved widget state: the theme would load the widget JS from a CDN
    heading = name
    for cell in page.cells:
        if cell.cell_type == "markdown":
            cell.source = point_links(cell.source, f"{folder}/{name}", site_paths, repo)
            heading = _heading(cell.source) or heading
            continue
        if cell.cell_type != "code":
            continue
        cell.source = strip_hidden_tests(cell.source)
        cell.outputs = clean_outputs(cell.outputs)
        if is_solution(cell):
            collapse_solution(cell, edition)
        if any(key.startswith("image/") for o in cell.outputs for key in o.get("data", {})):
            cell.metadata.setdefault("mystnb", {})["image"] = {"alt": alt_text(cell.source, heading, edition)}
    if page.cells and page.cells[0].cell_type == "markdown":
        links = links_cell(name, folder, repo, edition)
        links.source = switch_line(f"{folder}/{Path(name).stem}", edition, editions) + links.source
        page.cells.insert(1, links)
    return page


def split_readme(readme: str, edition: Edition = ENGLISH) -> tuple[str, str]:
    """README.md split into the landing page and the instructors' guide (its 'For instructors' section)."""
    heading = edition.words["instructors"]
    start = readme.find(f"\n{heading}\n")
    if start < 0:
        raise SiteError(f"{edition.readme.name} has no {heading!r} section for the instructors' guide page")
    end = readme.find("\n## ", start + len(heading) + 1)
    end = len(readme) if end < 0 else end
    guide = edition.words["instructors_title"] + readme[start + 1 + len(heading):end]
    guide = re.sub(r"^###", "##", guide, flags=re.MULTILINE)
    landing = readme[:start + 1] + f"{heading}\n\n{edition.words['instructors_pointer']}\n" + readme[end:]
    return landing, guide


def toctree(caption: str, entries: list[str]) -> str:
    """A hidden MyST toctree with `caption` over `entries` (document names)."""
    return "\n```{toctree}\n:hidden:\n:caption: " + caption + "\n\n" + "\n".join(entries) + "\n```\n"


def stage_sources(source_dir: Path, pages: dict[str, nbformat.NotebookNode], students: dict[str, nbformat.NotebookNode],
                  folder: str = "notebooks", repo: str = GITHUB_REPO, edition: Edition = ENGLISH,
                  editions: tuple[Edition, ...] = (ENGLISH,)) -> None:
    """Write the site's sources into `source_dir`: landing page, lessons, student copies, guide, data, license.
    A file whose content is unchanged keeps its time stamp, so Sphinx rebuilds only what changed."""
    readme = _repo_path(edition.readme)
    site_paths = _site_paths(list(pages), folder, readme)
    landing, guide = split_readme(edition.readme.read_text(encoding="utf-8"), edition)
    landing = point_links(landing, readme, site_paths, repo)
    landing += toctree(edition.words["lessons"], [f"{folder}/{Path(name).stem}" for name in pages])
    landing += toctree(edition.words["reference"], ["instructors", "data/README", "license"])
    files = {
        "index.md": landing,
        "instructors.md": point_links(guide, readme, site_paths, repo),
        "data/README.md": point_links((ROOT / "data" / "README.md").read_text(encoding="utf-8"), "data/README.md",
                                      site_paths, repo),
        "license.md": f"# {edition.words['license']}\n\n```text\n" + (ROOT / "LICENSE").read_text(encoding="utf-8")
        + "```\n",
    }
    for document in ("index", "instructors", "data/README", "license"):
        files[f"{document}.md"] = switch_line(document, edition, editions) + files[f"{document}.md"]
    for name, page in pages.items():
        files[f"{folder}/{name}"] = nbformat.writes(page)
        files[f"student/{name}"] = nbformat.writes(students[name])
    for relative, text in files.items():
        _write_if_changed(Path(source_dir) / relative, text)
    shutil.copy2(STATIC_DIR / BADGE, Path(source_dir) / BADGE)
    for stale in set(_files(source_dir)) - set(files) - {BADGE}:
        (Path(source_dir) / stale).unlink()


def _repo_path(path: Path) -> str:
    """`path` as the repository names it (posix, relative to the checkout), or its bare name outside it."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name


def _site_paths(names: list[str], folder: str, readme: str = "README.md") -> dict[str, str]:
    """Repository file → its file among the site's sources (the edition's README is the landing page)."""
    paths = {readme: "index.md", "LICENSE": "license.md", "data/README.md": "data/README.md"}
    paths.update({f"{folder}/{name}": f"{folder}/{name}" for name in names})
    return paths


def _files(folder: Path) -> list[str]:
    """The files under `folder`, as posix paths relative to it."""
    return [p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file()]


def _write_if_changed(path: Path, text: str) -> None:
    """Write `text` to `path` unless it already holds exactly that."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# --- 3. Sphinx --------------------------------------------------------------------------------------

def sphinx_config(repo: str = GITHUB_REPO, edition: Edition = ENGLISH) -> dict:
    """The Sphinx configuration of one edition of the site (what a conf.py would hold)."""
    return {
        "project": edition.words["title"],
        "author": "the course's authors",
        "copyright": "the course's authors, Apache License 2.0",
        "language": edition.language,
        "extensions": ["myst_nb", "coursetools.site"],  # this module's setup(): the Chinese search fix
        "exclude_patterns": ["student/**"],
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "myst_heading_anchors": 3,
        "nb_execution_mode": "off",  # executed by coursetools.site from its jupyter-cache (module docstring)
        "nb_output_stderr": "remove",
        "nb_merge_streams": True,
        "nb_ipywidgets_js": {},  # no widget JavaScript from a CDN (progress-bar widgets are dropped)
        "html_theme": "sphinx_book_theme",
        "html_title": edition.words["title"],
        "html_static_path": [str(STATIC_DIR)],
        "html_css_files": ["site.css"],
        "html_favicon": str(STATIC_DIR / "favicon.svg"),  # else browsers ask for /favicon.ico (a 404)
        "html_context": {"default_mode": "light"},  # the theme logs a console error when none is set
        "html_copy_source": True,  # the theme's download button serves each page's .ipynb
        "html_search_language": "zh",  # jieba segments Chinese; English words are still stemmed
        "mathjax_path": MATHJAX,
        "html_theme_options": {
            "repository_url": f"https://github.com/{repo}",
            "repository_branch": "main",
            "path_to_docs": "",  # the sources mirror the repository: notebooks/NN_x.ipynb
            "use_repository_button": True,
            "use_download_button": True,
            "launch_buttons": {"colab_url": "https://colab.research.google.com"},
            "show_toc_level": 2,
        },
    }


def setup(app) -> dict:
    """Sphinx's hook for this module as an extension: Chinese search (jieba) whose JavaScript works.

    Sphinx 9.0.4's Chinese search ships the English stemmer's JavaScript but names it
    `ChineseStemmer` (`window.Stemmer = ChineseStemmer;`, undefined), so the search page fails with
    a console error; the same class under the stemmer's real name fixes that.
    """
    from sphinx.search.zh import SearchChinese

    _site_import("jieba").setLogLevel(logging.WARNING)  # not "Building prefix dict ..." on every build

    class ChineseSearch(SearchChinese):
        """Sphinx's Chinese search, naming the English stemmer it ships."""

        language_name = "English"

    app.add_search_language(ChineseSearch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def build_html(source_dir: Path, html_dir: Path, doctree_dir: Path, config: dict, log=print) -> None:
    """Build `source_dir` into `html_dir` with Sphinx (warnings are errors); SiteError listing the warnings."""
    application = _site_import("sphinx.application")
    docutils = _site_import("sphinx.util.docutils")
    warnings = io.StringIO()
    with docutils.patch_docutils(source_dir), docutils.docutils_namespace():
        app = application.Sphinx(str(source_dir), None, str(html_dir), str(doctree_dir), "html",
                                 confoverrides=config, status=None, warning=warnings,
                                 warningiserror=True, keep_going=True)
        app.build()
    if app.statuscode or warnings.getvalue().strip():
        raise SiteError("Sphinx warned (warnings are errors):\n" + _first_lines(warnings.getvalue().strip(), 60))
    log(f"built {len(list(Path(html_dir).rglob('*.html')))} HTML pages into {html_dir}")


# --- 4. links ---------------------------------------------------------------------------------------

class _Links(html.parser.HTMLParser):
    """The ids and the referenced URLs (href, src) of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, url)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        for name, value in attrs:
            if name in {"id", "name"} and value:
                self.ids.add(value)
            if name in {"href", "src"} and value:
                self.refs.append((tag, name, value))


def broken_links(html_dir: Path) -> list[str]:
    """Every internal link of the site that leads nowhere (missing file or fragment), and every
    script, stylesheet, font or image that would load from another host."""
    html_dir = Path(html_dir)
    pages = {p.relative_to(html_dir).as_posix(): _parse(p) for p in html_dir.rglob("*.html")
             if not {"_static", "_sources"} & set(p.relative_to(html_dir).parts)}  # the theme's template copies
    problems = []
    for page, parsed in sorted(pages.items()):
        for tag, attribute, url in parsed.refs:
            problem = _link_problem(html_dir, page, tag, url, pages)
            if problem:
                problems.append(f"{page}: <{tag} {attribute}={url!r}> {problem}")
    return problems


def _parse(path: Path) -> _Links:
    """The parsed links and ids of the HTML file at `path`."""
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _link_problem(html_dir: Path, page: str, tag: str, url: str, pages: dict[str, _Links]) -> str | None:
    """Why `url` on `page` is broken, or None when it resolves."""
    parts = urlsplit(url)
    if parts.scheme in {"http", "https"} or url.startswith("//"):
        return "loads from another host" if tag in {"script", "img", "link", "iframe", "source"} else None
    if parts.scheme in {"mailto", "data", "javascript"}:
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path))) if parts.path else page
    if target.startswith("../"):
        return "points outside the site"
    if (html_dir / target).is_dir():
        target = posixpath.join(target, "index.html")
    if not (html_dir / target).is_file():
        return "leads to a missing file"
    if parts.fragment and target in pages and unquote(parts.fragment) not in pages[target].ids:
        return f"leads to a missing anchor #{parts.fragment}"
    return None


# --- the command ------------------------------------------------------------------------------------

def _site_import(module: str):
    """Import a module of the site extra; SystemExit with the install command when it is missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in SITE_EXTRA:
            raise SystemExit(f"coursetools site needs {error.name}, which the site extra installs: "
                             "pip install -e '.[site]' (or pip install -r requirements.txt)") from None
        raise


def build_edition(edition: Edition, site_dir: Path, cache_dir: Path, execute_missing: bool, repo: str,
                  editions: tuple[Edition, ...], log=print) -> None:
    """Stage and build one edition into `site_dir`/html/`edition.prefix` (its sources and state kept apart)."""
    paths = sorted(edition.notebook_dir.glob("*.ipynb"))
    if not paths:
        raise SiteError(f"no notebooks in {edition.notebook_dir}")
    folder = edition.notebook_dir.name
    executed = executed_notebooks(paths, cache_dir, execute_missing, log)
    site_paths = _site_paths(list(executed), folder, _repo_path(edition.readme))
    pages = {name: page_notebook(nb, name, site_paths, folder, repo, edition, editions)
             for name, nb in executed.items()}
    # Student copies as `coursetools student notebooks/ --out student/` writes them (badges open student/NN_x.ipynb).
    students = {path.name: student_notebook(nbformat.read(path, as_version=4), path.name, f"student/{path.name}")
                for path in paths}
    suffix = edition.state_suffix
    stage_sources(site_dir / f"source{suffix}", pages, students, folder, repo, edition, editions)
    build_html(site_dir / f"source{suffix}", site_dir / "html" / edition.prefix, site_dir / f"doctrees{suffix}",
               sphinx_config(repo, edition), log)


def build_site(site_dir: Path = SITE_DIR, execute_missing: bool = True, repo: str = GITHUB_REPO,
               cache_dir: Path | None = None, editions: tuple[Edition, ...] | None = None, log=print) -> Path:
    """Build every edition present (the English one always) into `site_dir`/html and check the links; return
    the HTML folder. The executions are cached in `cache_dir` (default: `site_dir`/jupyter_cache)."""
    site_dir = Path(site_dir)
    cache_dir = site_dir / "jupyter_cache" if cache_dir is None else Path(cache_dir)
    editions = editions or tuple(e for e in EDITIONS if e is ENGLISH or e.present())
    started = time.perf_counter()
    for edition in editions:
        build_edition(edition, site_dir, cache_dir, execute_missing, repo, editions, log)
    problems = broken_links(site_dir / "html")
    if problems:
        raise SiteError(f"{len(problems)} broken link(s):\n" + "\n".join(problems[:40]))
    log(f"every internal link resolves; {len(editions)} edition(s) ready in {time.perf_counter() - started:.0f} s: "
        f"{site_dir / 'html' / 'index.html'}")
    return site_dir / "html"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `coursetools site`."""
    parser.add_argument("--out", type=Path, default=SITE_DIR,
                        help="build folder (default build/site/: html/, source/, jupyter_cache/)")
    parser.add_argument("--cached-only", action="store_true",
                        help="fail instead of executing a notebook that has no cached execution")
    parser.add_argument("--clean", action="store_true",
                        help="delete the previous HTML and Sphinx state first (the executions are kept)")


def run(args: argparse.Namespace) -> int:
    """Build the site; exit 1 naming what went wrong."""
    if args.clean:
        for edition in EDITIONS:
            for name in ("html", f"doctrees{edition.state_suffix}", f"source{edition.state_suffix}"):
                shutil.rmtree(Path(args.out) / name, ignore_errors=True)
    try:
        build_site(args.out, execute_missing=not args.cached_only)
    except SiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"view it: python -m http.server -d {args.out / 'html'} (then open http://127.0.0.1:8000)")
    return 0
