"""The course's web site (`coursetools site`): pages, executions from the cache, links, deployment.

The light tests check each step on small inputs (they run in the README's test command). The heavy
one (`pytest tests -m site`, run by .ci/run after the standalone check has filled the cache) builds
the real site with the command and reads it as a reader does, in Debian's headless Chromium driven
by Selenium, against the site served on 127.0.0.1; it saves screenshots under build/site/screenshots.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
import yaml

from coursetools import site
from coursetools.paths import NOTEBOOK_DIR, ROOT
from coursetools.setup_cell import BADGE_IMAGE, GITHUB_REPO

v4 = nbformat.v4
HIDDEN = "### BEGIN HIDDEN TESTS\nassert answer(2) == 4, 'hidden'\n### END HIDDEN TESTS"


def _lesson() -> nbformat.NotebookNode:
    """A small executed lesson: title, a plot, an exercise with its check (hidden tests), a progress bar."""
    solution = v4.new_code_cell("def answer(x):\n    ### BEGIN SOLUTION\n    return x * 2\n    ### END SOLUTION",
                                metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": "01_answer"}})
    check = v4.new_code_cell(f"checks.check_answer(answer)\n{HIDDEN}",
                             metadata={"nbgrader": {"solution": False, "grade": True, "points": 1}},
                             outputs=[v4.new_output("stream", name="stdout", text="✅ Exercise 1.1 passed\n")])
    plot = v4.new_code_cell('fig, ax = plt.subplots()\nax.set_xlabel("sparsity (%)")\nax.set_title(f"Loss at {s}")',
                            outputs=[v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                                                                         "text/plain": "<Figure>"})])
    bar = v4.new_code_cell("for _ in tqdm(range(3)): train()", outputs=[
        v4.new_output("display_data", data={site.WIDGET: {"model_id": "x"}, "text/plain": "  0%|  | 0/3"}),
        v4.new_output("stream", name="stdout", text="epoch 1\r"),
        v4.new_output("stream", name="stdout", text="epoch 2\n")])
    return v4.new_notebook(cells=[
        v4.new_markdown_cell(f"# 01 · Lesson\n\n[![Open In Colab]({BADGE_IMAGE})](https://colab.research.google.com/"
                             f"github/{GITHUB_REPO}/blob/main/notebooks/01_lesson.ipynb)"),
        v4.new_markdown_cell("## Weights and bits\n\nSee [the helper](../helpers/pruning.py), [lesson 2](02_two.ipynb)"
                             " and [the README](../README.md#syllabus)."),
        plot, v4.new_markdown_cell("### Exercise 1.1 — answer"), solution, check, bar])


SITE_PATHS = {"notebooks/01_lesson.ipynb": "notebooks/01_lesson.ipynb",
              "notebooks/02_two.ipynb": "notebooks/02_two.ipynb", "README.md": "index.md"}


@pytest.fixture
def page():
    return site.page_notebook(_lesson(), "01_lesson.ipynb", SITE_PATHS)


def test_a_solution_is_collapsed_behind_show_solution_and_its_check_output_stays(page):
    solution, check = page.cells[5], page.cells[6]
    assert "hide-input" in solution.metadata.tags and solution.metadata.mystnb["code_prompt_show"] == "Show solution"
    assert "tags" not in check.metadata and check.outputs[0].text == "✅ Exercise 1.1 passed\n"
    assert "### BEGIN SOLUTION" in solution.source  # collapsed, not removed: a reader can open it


def test_hidden_tests_never_reach_the_page(page):
    assert page.cells[6].source == "checks.check_answer(answer)"
    assert not any("HIDDEN" in cell.source or "hidden" in cell.source for cell in page.cells)


def test_progress_bar_widgets_and_carriage_return_debris_are_dropped(page):
    [output] = page.cells[7].outputs
    assert output.output_type == "stream" and output.text == "epoch 2\n"
    assert site.without_carriage_returns("10%\r50%\r100%\nab\bc\n") == "100%\nac\n"


def test_every_plot_gets_alt_text_from_its_section_and_labels(page):
    alt = page.cells[3].metadata.mystnb["image"]["alt"]
    assert alt == "Figure for “Weights and bits” — x axis: sparsity (%); title: Loss at …"
    assert site.alt_text("# Accuracy against bits\nplt.plot(x)", "Results") == (
        "Figure for “Results” — Accuracy against bits")


def test_links_lead_to_site_pages_or_to_github_and_the_badge_is_served_locally(page):
    text = page.cells[0].source + page.cells[2].source
    assert f"(https://github.com/{GITHUB_REPO}/blob/main/helpers/pruning.py)" in text
    assert "(02_two.ipynb)" in text and "(../index.md#syllabus)" in text
    assert f"[![Open In Colab](../{site.BADGE})](https://colab.research.google.com/github/{GITHUB_REPO}" in text
    assert BADGE_IMAGE not in text


def test_each_lesson_offers_its_student_copy_notebook_and_source(page):
    links = page.cells[1].source
    assert "[student copy (exercises without solutions)](path:../student/01_lesson.ipynb)" in links
    assert "[this notebook with outputs (.ipynb)](path:01_lesson.ipynb)" in links
    assert f"https://github.com/{GITHUB_REPO}/blob/main/notebooks/01_lesson.ipynb" in links


def test_the_committed_notebook_is_not_changed_by_making_its_page():
    lesson = _lesson()
    before = nbformat.writes(lesson)
    site.page_notebook(lesson, "01_lesson.ipynb", SITE_PATHS)
    assert nbformat.writes(lesson) == before


def test_the_readme_gives_a_landing_page_and_the_instructors_guide():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    landing, guide = site.split_readme(readme)
    assert guide.startswith("# For instructors\n") and "## Make student copies" in guide
    assert "[its own page](instructors.md)" in landing and "## Syllabus" in landing and "## License" in landing
    assert "### Make student copies" not in landing
    with pytest.raises(site.SiteError, match="For instructors"):
        site.split_readme("# A course\n\n## Syllabus\n")


def test_the_configuration_serves_everything_from_the_site():
    config = site.sphinx_config()
    assert not re.match(r"https?:|//", config["mathjax_path"])
    mathjax = site.STATIC_DIR / config["mathjax_path"]
    assert mathjax.is_file() and '"3.2.2"' in mathjax.read_text(encoding="utf-8")
    assert sorted(p.name for p in (mathjax.parent / "output/chtml/fonts/woff-v2").glob("*.woff"))
    assert config["nb_ipywidgets_js"] == {} and config["nb_output_stderr"] == "remove"
    assert config["html_theme_options"]["path_to_docs"] == ""  # no doubled notebooks/ in Colab links


def _html(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")


def test_the_link_check_finds_missing_files_anchors_and_remote_assets(tmp_path):
    _html(tmp_path, "index.html", '<a href="a/b.html#part">ok</a><a href="#top" id="top">self</a>'
                                  '<a href="https://example.org/x">fine: a link out</a><img src="img.png">')
    _html(tmp_path, "a/b.html", '<h2 id="part">Part</h2><a href="../index.html">up</a>')
    (tmp_path / "img.png").write_bytes(b"png")
    assert site.broken_links(tmp_path) == []
    _html(tmp_path, "a/c.html", '<a href="b.html#gone">x</a><a href="missing.html">y</a>'
                                '<script src="https://cdn.example.org/m.js"></script><a href="../../out.html">z</a>')
    problems = "\n".join(site.broken_links(tmp_path))
    assert "a/c.html: <a href='b.html#gone'> leads to a missing anchor #gone" in problems
    assert "missing.html'> leads to a missing file" in problems
    assert "m.js'> loads from another host" in problems and "points outside the site" in problems


def test_the_fingerprint_follows_what_the_code_reads(tmp_path):
    for name in ("helpers/a.py", "data/mnist.npz", "requirements.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    before = site.execution_fingerprint(tmp_path)
    (tmp_path / "notes.txt").write_text("not read by any notebook")
    assert site.execution_fingerprint(tmp_path) == before
    (tmp_path / "helpers/a.py").write_text("x = 2\n")
    assert site.execution_fingerprint(tmp_path) != before


def _tiny(folder: Path, name: str, code: str) -> Path:
    path = folder / name
    nbformat.write(v4.new_notebook(cells=[v4.new_markdown_cell("# Tiny"), v4.new_code_cell(code)],
                                   metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}}), path)
    return path


def test_a_notebook_runs_once_and_is_reused_until_its_code_changes(tmp_path, monkeypatch):
    path = _tiny(tmp_path, "01_tiny.ipynb", "print(6 * 7)")
    cache = tmp_path / "cache"
    [first] = site.executed_notebooks([path], cache, log=lambda _: None).values()
    assert first.cells[1].outputs[0].text == "42\n"
    monkeypatch.setattr(site, "execute", lambda *a, **k: pytest.fail("a cached notebook ran again"))
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].source = "# Tiny, with new prose"  # a prose edit keeps the execution
    nbformat.write(notebook, path)
    [again] = site.executed_notebooks([path], cache, execute_missing=False).values()
    assert again.cells[1].outputs[0].text == "42\n" and again.cells[0].source == "# Tiny, with new prose"
    notebook.cells[1].source = "print(6 * 9)"
    nbformat.write(notebook, path)
    with pytest.raises(site.SiteError, match="01_tiny.ipynb has no cached execution"):
        site.executed_notebooks([path], cache, execute_missing=False)


def test_a_notebook_that_fails_stops_the_build_and_is_named(tmp_path):
    path = _tiny(tmp_path, "03_broken.ipynb", "1 / 0")
    failure = r"notebook 03_broken.ipynb failed to execute: the cell starting '1 / 0' raised ZeroDivisionError"
    with pytest.raises(site.SiteError, match=failure):
        site.executed_notebooks([path], tmp_path / "cache", log=lambda _: None)


def test_an_nbval_run_with_the_plugin_fills_the_cache_the_site_reads(tmp_path):
    path = _tiny(tmp_path, "02_nbval.ipynb", "print('from nbval')")
    cache = tmp_path / "cache"
    done = subprocess.run([sys.executable, "-m", "pytest", str(path), "--nbval-lax", "-q", "-p", "no:cacheprovider",
                           "-p", "coursetools.site_cache", "--site-cache", str(cache), "--rootdir", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "site cache: 02_nbval.ipynb stored" in done.stdout, done.stdout[-2000:]
    [executed] = site.executed_notebooks([path], cache, execute_missing=False).values()
    assert executed.cells[1].outputs[0].text == "from nbval\n" and executed.cells[1].execution_count == 1


def test_the_standalone_check_stores_its_executions_for_the_site():
    source = (ROOT / "tests" / "test_standalone.py").read_text(encoding="utf-8")
    assert '"-p", "coursetools.site_cache", "--site-cache", str(site.CACHE_DIR)' in source


def test_the_pages_workflow_builds_with_the_same_command_and_deploys_the_folder_it_writes():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "site.yml").read_text(encoding="utf-8"))
    build, deploy = workflow["jobs"]["build"]["steps"], workflow["jobs"]["deploy"]["steps"]
    assert [s["run"] for s in build if "run" in s and "coursetools" in s["run"]] == ["coursetools site"]
    assert "pip install -r requirements.txt" in "\n".join(s.get("run", "") for s in build)
    [upload] = [s for s in build if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert ROOT / upload["with"]["path"] == site.HTML_DIR
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy)
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}


def test_the_build_folder_is_ignored_by_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the course")
    done = subprocess.run(["git", "check-ignore", "-q", str(site.HTML_DIR / "index.html")], cwd=ROOT)
    assert done.returncode == 0, "build/site/ must be git-ignored"


def _edition(base: Path, edition: site.Edition, title: str, prose: str) -> site.Edition:
    """A copy of `edition` whose notebooks and README are one tiny lesson and a README under `base`."""
    notebooks = base / edition.notebook_dir.name
    notebooks.mkdir(parents=True)
    lesson = _tiny(notebooks, "01_tiny.ipynb", "def answer(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n"
                   "    ### END SOLUTION")
    notebook = nbformat.read(lesson, as_version=4)
    notebook.cells[0].source = f"# {title}\n\n{prose}"
    notebook.cells[1].metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "01_answer"}
    nbformat.write(notebook, lesson)
    readme = base / edition.readme.name
    readme.write_text(f"# {title}\n\n[{title}]({notebooks.name}/01_tiny.ipynb)\n\n{edition.words['instructors']}"
                      "\n\nText.\n\n## License\n\nApache 2.0\n", encoding="utf-8")
    return site.Edition(edition.language, edition.name, notebooks, readme, edition.prefix, edition.words)


def test_both_editions_build_and_every_page_links_to_its_counterpart(tmp_path):
    english = _edition(tmp_path, site.ENGLISH, "Pruning", "We remove the smallest weights.")
    chinese = _edition(tmp_path, site.CHINESE, "剪枝", "我们去掉最小的权重。")
    html = site.build_site(tmp_path / "site", editions=(english, chinese), log=lambda _: None)
    lesson_en = (html / "notebooks" / "01_tiny.html").read_text(encoding="utf-8")
    lesson_zh = (html / "zh" / "notebooks_zh" / "01_tiny.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN"' in lesson_zh and '<html lang="en"' in lesson_en
    assert "显示答案" in lesson_zh and "Show solution" in lesson_en and "学生版" in lesson_zh
    assert 'href="../zh/notebooks_zh/01_tiny.html">本页中文版' in lesson_en
    assert 'href="../../notebooks/01_tiny.html">This page in English' in lesson_zh
    for page in ("index", "instructors", "license", "data/README"):
        other = "../" * page.count("/") + f"zh/{page}.html"
        assert f'href="{other}">本页中文版' in (html / f"{page}.html").read_text(encoding="utf-8"), page
    assert (html / "zh" / "searchindex.js").is_file() and "剪枝" in (html / "zh" / "index.html").read_text("utf-8")
    # the link check already passed inside build_site; it also sees the Chinese edition's pages:
    (html / "zh" / "notebooks_zh" / "01_tiny.html").write_text(lesson_zh.replace("01_tiny.html", "missing.html"))
    assert any(problem.startswith("zh/notebooks_zh/01_tiny.html") for problem in site.broken_links(html))


def test_a_lesson_without_a_translation_switches_to_the_other_editions_landing_page(tmp_path):
    english = _edition(tmp_path, site.ENGLISH, "Pruning", "We remove the smallest weights.")
    chinese = site.Edition("zh_CN", "中文", tmp_path / "notebooks_zh", tmp_path / "README.zh-CN.md", "zh",
                           site.CHINESE.words)
    assert site.counterpart("notebooks/01_tiny", english, chinese) == "index"
    assert 'href="../zh/index.html"' in site.switch_line("notebooks/01_tiny", english, (english, chinese))
    assert site.switch_line("notebooks/01_tiny", english, (english,)) == ""  # one edition: no switcher


# --- heavy: the real site, in a real browser ------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,1600"]
LESSONS = sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb"))


@pytest.fixture(scope="module")
def built_site():
    """The site, built by the command itself (executions come from the cache the standalone check fills)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "coursetools", "site"], cwd=ROOT, capture_output=True, text=True,
                          timeout=3600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    print(f"coursetools site: {time.perf_counter() - started:.0f} s")
    return site.HTML_DIR


@pytest.fixture(scope="module")
def served(built_site):
    """The built site on http://127.0.0.1:<free port>/, served by a thread of this process."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """http.server without a log line per request."""

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Debian's Chromium, headless, with a fresh profile, driven by Selenium through Debian's chromedriver."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.fail("the browser test needs Debian's chromium and chromium-driver (apt-get install -y chromium "
                    "chromium-driver fonts-noto-cjk); .ci/run installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


ZH_LESSONS = sorted(p.stem for p in site.CHINESE.notebook_dir.glob("*.ipynb")) if site.CHINESE.present() else []
REFERENCE_PAGES = ["index.html", "instructors.html", "data/README.html", "license.html"]
PAGES = REFERENCE_PAGES + [f"notebooks/{name}.html" for name in LESSONS] + (
    [f"zh/{page}" for page in REFERENCE_PAGES] + [f"zh/notebooks_zh/{name}.html" for name in ZH_LESSONS]
    if ZH_LESSONS else [])

# Runs in the page: waits for MathJax and every image (lazy ones made eager), then reports what a reader sees.
READ_PAGE = """
const done = arguments[arguments.length - 1];
(async () => {
 try {
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
  const article = document.querySelector('article') || document.body;
  const images = [...article.querySelectorAll('img')];
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  const text = article.cloneNode(true);
  text.querySelectorAll('pre, code, script, mjx-container, .cell_input').forEach(e => e.remove());
  done({
    rawMath: (text.textContent.match(/\\$\\$|\\\\\\(|\\\\\\[/g) || []).length,
    mathSpans: article.querySelectorAll('.math').length,
    rendered: article.querySelectorAll('.math mjx-container').length,
    images: images.map(img => ({src: img.getAttribute('src'), width: img.naturalWidth, alt: img.alt})),
    colab: [...document.querySelectorAll('a[href*="colab.research.google.com"]')].map(a => a.href),
    solutions: [...document.querySelectorAll('details.hide')].filter(d => /Show solution|显示答案/.test(
      d.querySelector('summary').textContent)).map(d => d.open),
    switch: [...document.querySelectorAll('a.language-switch')].map(a => a.href),
    hiddenTests: document.body.innerText.includes('HIDDEN TESTS'),
    noise: [...article.querySelectorAll('.cell_output')].map(e => e.innerText).filter(
      t => /\\d+%\\||absl::|oneDNN custom operations|^[IWEF]\\d{4} \\d\\d:\\d\\d/m.test(t)),
  });
 } catch (error) { done({error: String(error), stack: String(error.stack)}); }
})();
"""


def _read(browser, url: str) -> tuple[dict, list]:
    """What a page shows once loaded, and the console's errors while it loaded."""
    for _attempt in (1, 2):
        browser.get_log("browser")  # drop what earlier pages logged
        browser.get(url)
        browser.set_script_timeout(60)
        seen = browser.execute_async_script(READ_PAGE)
        # The reading script itself once failed on a long page (a TypeError inside MathJax's start-up promise
        # while the page was still settling; the page read cleanly when loaded again): read it a second time
        # before calling it an error. A page that is really broken fails both times.
        if "error" not in seen:
            break
    assert "error" not in seen, f"{url}: {seen}"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    return seen, errors


@pytest.mark.site
def test_every_page_reads_as_intended_in_a_real_browser(served, browser):
    started, solutions_seen, formulas = time.perf_counter(), 0, 0
    for page in PAGES:
        seen, errors = _read(browser, served + page)
        formulas += seen["rendered"]
        assert errors == [], f"{page}: console errors {errors}"
        assert seen["rawMath"] == 0 and seen["rendered"] == seen["mathSpans"], f"{page}: unrendered math {seen}"
        for image in seen["images"]:
            assert image["width"] > 0, f"{page}: image {image['src']} did not load"
            assert image["alt"].strip(), f"{page}: image {image['src']} has no alt text"
        if ZH_LESSONS:
            assert len(seen["switch"]) == 1, f"{page}: no link to the other edition"
            switch_to = seen["switch"][0].removeprefix(served)
            assert switch_to in PAGES or switch_to in {"index.html", "zh/index.html"}, f"{page}: switch to {switch_to}"
        if Path(page).parent.name in {"notebooks", "notebooks_zh"}:  # (the guide explains the hidden-test markers)
            assert not seen["hiddenTests"], f"{page} shows hidden tests"
            assert seen["noise"] == [], f"{page}: progress-bar debris or library log lines {seen['noise']}"
            notebook = page.removeprefix("zh/").removesuffix(".html") + ".ipynb"
            assert seen["colab"], f"{page} has no Colab link"
            for link in seen["colab"]:
                assert link.endswith(f"/github/{GITHUB_REPO}/blob/main/{notebook}"), f"{page}: Colab link {link}"
            assert not any(seen["solutions"]), f"{page}: a solution is open before any click"
            solutions_seen += len(seen["solutions"])
    assert solutions_seen >= 10, f"only {solutions_seen} collapsed solutions on all lesson pages"
    assert formulas >= 20, f"only {formulas} formulas rendered on the whole site"
    print(f"{len(PAGES)} pages read in {time.perf_counter() - started:.0f} s")


@pytest.mark.site
def test_the_student_copy_offered_for_download_has_no_solution(served, browser):
    from selenium.webdriver.common.by import By

    browser.get(served + "notebooks/02_pruning.html")
    [link] = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a.download")
              if "student copy" in a.text]
    with urllib.request.urlopen(link, timeout=30) as response:
        student = nbformat.reads(response.read().decode(), as_version=4)
    code = "\n".join(cell.source for cell in student.cells if cell.cell_type == "code")
    assert "raise NotImplementedError()" in code and "### BEGIN SOLUTION" not in code and "HIDDEN" not in code


@pytest.mark.site
def test_a_solution_opens_with_a_click_and_shows_its_code(served, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(served + "notebooks/02_pruning.html")
    details = [d for d in browser.find_elements(By.CSS_SELECTOR, "details.hide")
               if "Show solution" in d.find_element(By.TAG_NAME, "summary").text]
    assert details and details[0].get_attribute("open") is None
    code = details[0].find_element(By.CSS_SELECTOR, "pre")
    assert not code.is_displayed()
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", details[0])
    details[0].find_element(By.TAG_NAME, "summary").click()
    assert details[0].get_attribute("open") == "true"
    # The browser lays the opened block out on its next frame: wait for it rather than read it at once.
    WebDriverWait(browser, 10).until(lambda _: code.is_displayed())
    assert "### BEGIN SOLUTION" in code.text


@pytest.mark.site
def test_the_language_switch_leads_to_the_same_lesson_in_chinese_and_back(served, browser):
    from selenium.webdriver.common.by import By

    if not ZH_LESSONS:
        pytest.skip("no Chinese notebooks yet")
    lesson = ZH_LESSONS[0]
    browser.get(f"{served}notebooks/{lesson}.html")
    browser.find_element(By.CSS_SELECTOR, "a.language-switch").click()
    assert browser.current_url == f"{served}zh/notebooks_zh/{lesson}.html"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    assert "显示答案" in browser.page_source
    browser.find_element(By.CSS_SELECTOR, "a.language-switch").click()
    assert browser.current_url == f"{served}notebooks/{lesson}.html"


@pytest.mark.site
def test_the_chinese_edition_has_its_own_search(served, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    if not ZH_LESSONS:
        pytest.skip("no Chinese notebooks yet")
    browser.get(f"{served}zh/search.html?q=量化")
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#search-results ul.search li"))
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#search-results li a")]
    assert any(f"zh/notebooks_zh/{ZH_LESSONS[0]}.html" in link for link in links), links


@pytest.mark.site
@pytest.mark.parametrize("query", ["pruning", "剪枝"])
def test_search_finds_the_pruning_lesson(served, browser, query):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("browser")
    browser.get(f"{served}search.html?q={query}")
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#search-results ul.search li"))
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], f"search page: console errors {errors}"
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#search-results li a")]
    assert any(link.split("?")[0].split("#")[0].endswith("notebooks/02_pruning.html") for link in links), links


@pytest.mark.site
def test_screenshots_of_two_pages_are_kept_for_ci(served, browser):
    site.SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for page, name in (("index.html", "index.png"), ("notebooks/02_pruning.html", "02_pruning.png")):
        browser.get(served + page)
        browser.execute_async_script("const done = arguments[0]; (window.MathJax && MathJax.startup ? "
                                     "MathJax.startup.promise : Promise.resolve()).then(() => done());")
        path = site.SCREENSHOT_DIR / name
        path.unlink(missing_ok=True)
        assert browser.save_screenshot(str(path)) and path.stat().st_size > 20_000, f"blank screenshot of {page}"
