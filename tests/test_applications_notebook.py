"""Notebook 05's latency tables: each one names the CPU it was measured on, because which kernels LiteRT
runs (and so which number format is faster) depends on that CPU's vector features (issue 21)."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

import nbformat

from helpers import ROOT

NOTEBOOK = ROOT / "notebooks" / "05_applications.ipynb"
LATENCY = re.compile(r"µs|median_us|p90_us|latency_us")  # a cell that prints timings
PRINTS_CPU = re.compile(r"print\(CPU\)|\{CPU\}")


def _code_cells() -> list[str]:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def latency_tables_without_cpu(sources: list[str]) -> list[str]:
    """The first line of every cell that prints timings but not the CPU line."""
    return [next(line for line in source.splitlines() if line.strip()) for source in sources
            if "print(" in source and LATENCY.search(source) and not PRINTS_CPU.search(source)]


def test_the_check_finds_a_table_without_the_cpu():
    table = 'print(f"{name}: {row[\'median_us\']:.1f} µs")'
    assert latency_tables_without_cpu([table]) == [table]
    assert latency_tables_without_cpu([table + "\nprint(CPU)", 'print("no timings")']) == []


def test_every_latency_table_names_the_cpu():
    sources = _code_cells()
    tables = [source for source in sources if "print(" in source and LATENCY.search(source)]
    assert len(tables) >= 5, "section 1's table, ratios, verdicts, per-operator timings, Exercise 5.2's picks"
    assert latency_tables_without_cpu(sources) == []


def test_cpu_line_names_the_model_and_vector_features():
    source = next(s for s in _code_cells() if "def cpu_line" in s)
    start = source.index("def cpu_line")
    namespace = {"os": os, "platform": platform, "Path": Path}
    exec(source[start:source.index("\n\n\n", start)], namespace)
    line = namespace["cpu_line"]()
    assert line.startswith("CPU: ") and f"{os.cpu_count()} logical CPUs" in line
    features = line.split("vector features: ", 1)[1].split()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        flags = {flag for row in cpuinfo.read_text().splitlines() if row.startswith(("flags", "Features"))
                 for flag in row.split(":", 1)[1].split()}
        for flag in ("avx2", "avx512f", "avx512_vnni", "amx_int8", "asimd"):
            assert (flag in flags) == (flag in features), flag
