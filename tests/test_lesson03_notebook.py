"""Notebook 03's structure that issue 20 asks for: its numbered sections run 1 to 10 with none missing
(section 9, weight clustering, introduced before its code), and its baseline is the article MLP trained
exactly as notebook 01 trains it (`models.train_article_mlp`), not a second, differently configured fit."""

from __future__ import annotations

import re

import nbformat
import pytest

from coursetools.paths import NOTEBOOK_DIR

NOTEBOOK = NOTEBOOK_DIR / "03_quantization.ipynb"


@pytest.fixture(scope="module")
def cells() -> list:
    return nbformat.read(NOTEBOOK, as_version=4).cells


def test_sections_are_numbered_1_to_10_in_page_order(cells):
    numbers = [int(match.group(1)) for cell in cells if cell.cell_type == "markdown"
               for match in re.finditer(r"^## (\d+)\. ", cell.source, flags=re.MULTILINE)]
    assert numbers == list(range(1, 11)), f"section headings in page order: {numbers}"


def test_section_9_introduces_weight_clustering_before_its_code(cells):
    start = next(i for i, cell in enumerate(cells) if re.search(r"^## 9\. ", cell.source, flags=re.MULTILINE))
    introduction = cells[start].source
    for topic in ("centroid", "strip_clustering", "no run-time gain", "gzip", "TFLM"):
        assert topic in introduction or topic in "".join(c.source for c in cells[start:start + 4]), topic
    first_code = next(cell for cell in cells[start:] if cell.cell_type == "code")
    assert "cluster_weights" in first_code.source


def test_the_baseline_is_trained_as_notebook_01_trains_it(cells):
    code = "\n".join(cell.source for cell in cells if cell.cell_type == "code")
    assert "models.train_article_mlp(x_train, y_train)" in code
    assert "build_mlp(" not in code, "a second baseline built and fitted with other settings"
