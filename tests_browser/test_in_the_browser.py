"""The walkthrough as a learner uses it: JupyterLab and the Voilà calculator in a real browser.

`make test` checks the notebooks with nbval, one run each in a fresh kernel. A learner uses
JupyterLab in a browser, runs a notebook with Run All from the menus, often twice, and moves the
calculator's sliders; what they see there (a traceback drawn into an output, prices typeset as
math, a news pop-up) nbval never sees. So this test, run by CI (`make test-browser`):

* starts JupyterLab on a free loopback port, on a copy of the notebooks (its autosave must not
  touch the committed ones), and opens it in Debian's Chromium driven by Playwright;
* runs every notebook with Run → Run All Cells, twice in the same kernel, and checks that no cell
  shows an error or writes to stderr, that nothing was typeset as math, and that the Jupyter news
  pop-up did not appear; saves the notebook after each run and checks that the outputs of the
  cells nbval checks, sanitized as nbval does, are the same after both runs (a second run meets
  what the first left in the kernel and the embedded backend, which nbval never sees:
  ``notebook_outputs.py``);
* drags a slider of notebook 05's calculator and checks that the estimate changes;
* serves the calculator with Voilà, changes an input and checks that the total changes.

Screenshots go to ``artifacts/browser/`` (git-ignored), with ``report.json`` (timings, counts).
Playwright never downloads a browser here: Chromium comes from Debian (``apt-get install
chromium``) and is started from ``/usr/bin/chromium``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from notebook_outputs import checked_run

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = os.environ.get("STREAMKIT_CHROMIUM", "/usr/bin/chromium")
BIN = Path(sys.executable).parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Chromium on a machine without a network, started fresh every time.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUN_ALL_TIMEOUT_MS = 300_000
#: The notebook on show (other tabs stay in the page, hidden).
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
REPORT: dict = {"notebooks": {}}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_http(url: str, seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except Exception:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM}: `apt-get install chromium` (make test-browser does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        context.set_default_timeout(60_000)
        yield context
        context.close()
    (ARTIFACTS / "report.json").write_text(json.dumps(REPORT, indent=2) + "\n")


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory):
    """JupyterLab on a copy of notebooks/ and functions/, on a free loopback port."""
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    shutil.copytree(ROOT / "functions", work / "functions")
    settings = work / "user-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell in the page, so that the test can read every prompt and output
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "STREAMKIT_BACKEND": "local",
        "JUPYTERLAB_SETTINGS_DIR": str(work / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces"),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "jupyterlab.log", "w")
    process = subprocess.Popen(
        [
            str(BIN / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/status?token={token}", 90, process)
        yield f"http://127.0.0.1:{port}", token
    finally:
        _stop(process)
        log.close()


def _prompts(page) -> list[str]:
    return page.eval_on_selector_all(
        f"{NOTEBOOK} .jp-CodeCell .jp-InputArea-prompt", "nodes => nodes.map(n => n.textContent)"
    )


def _run_all(page, after: int) -> int:
    """Run → Run All Cells; wait until every code cell ran (counts above ``after``)."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
    page.wait_for_function(
        """([after, notebook]) => {
            const prompts = [...document.querySelectorAll(
                notebook + ' .jp-CodeCell .jp-InputArea-prompt')].map(n => n.textContent);
            if (!prompts.length || prompts.some(p => p.includes('*'))) return false;
            const counts = prompts.map(p => parseInt((p.match(/\\d+/) || ['0'])[0]));
            return counts.every(c => c > after);
        }""",
        arg=[after, NOTEBOOK],
        timeout=RUN_ALL_TIMEOUT_MS,
    )
    return max(int(re.search(r"\d+", p).group()) for p in _prompts(page))


def _saved(page, base: str, token: str, path: Path) -> dict:
    """File → Save Notebook; the notebook as saved (nbformat JSON, from the contents API), once
    the file is newer than before the save (an earlier autosave may have written part of a run)."""
    url = f"{base}/api/contents/notebooks/{path.name}?token={token}"

    def read(content: bool) -> dict:
        with urllib.request.urlopen(f"{url}&content={int(content)}", timeout=30) as response:
            return json.load(response)

    before = read(content=False)["last_modified"]
    page.get_by_role("menuitem", name="File", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Save Notebook(?! As)")).click()
    deadline = time.monotonic() + 60
    while read(content=False)["last_modified"] == before:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} was not saved within 60 s")
        time.sleep(0.2)
    return read(content=True)["content"]


def _problems(page) -> dict[str, list[str]]:
    stderr = page.eval_on_selector_all(
        f'{NOTEBOOK} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
        "nodes => nodes.map(n => n.textContent.slice(0, 400))",
    )
    math = page.eval_on_selector_all(
        f"{NOTEBOOK} mjx-container, {NOTEBOOK} .MathJax",
        "nodes => nodes.map(n => n.closest('.jp-Cell').textContent.slice(0, 200))",
    )
    news = page.get_by_text(re.compile("receive official Jupyter news", re.I)).count()
    return {"stderr or errors": stderr, "typeset as math": math, "news pop-ups": [""] * news}


def _screenshot(page, name: str, near: str | None = None) -> None:
    if near is not None:
        cell = page.locator(f"{NOTEBOOK} .jp-Cell", has_text=near).first
        cell.scroll_into_view_if_needed()
        page.mouse.wheel(0, 120)
        time.sleep(0.5)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


#: Where each notebook's screenshot looks: the text of a cell near the picture worth keeping.
SHOTS = {
    "01_enable_streams": "with aws.show_calls():",
    "02_create_trigger": "diagram.plot_trigger_diagram",
    "03_inspect_events": "timeline.plot_timeline",
    "04_failures_and_idempotency": "timeline.plot_timeline",
    "05_pricing": "pricing.calculator_widget",
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_run_all_twice_shows_no_error(path, jupyterlab, browser_context):
    base, token = jupyterlab
    page = browser_context.new_page()
    began = time.monotonic()
    try:
        # ?reset: a fresh workspace, with this notebook alone
        page.goto(f"{base}/lab/tree/notebooks/{path.name}?reset&token={token}")
        page.wait_for_selector(f"{NOTEBOOK} .jp-CodeCell", timeout=90_000)
        page.get_by_text("Python 3 (ipykernel) | Idle").first.wait_for(timeout=90_000)
        first = _run_all(page, after=0)
        after_first = _problems(page)
        checked_first, errors_first = checked_run(_saved(page, base, token, path))
        second = _run_all(page, after=first)
        after_second = _problems(page)
        checked_second, errors_second = checked_run(_saved(page, base, token, path))
        _screenshot(page, path.stem, SHOTS.get(path.stem))
        result = {
            "code cells": len(_prompts(page)),
            "last execution count": second,
            "seconds": round(time.monotonic() - began, 1),
            "first run": {k: len(v) for k, v in after_first.items()},
            "second run": {k: len(v) for k, v in after_second.items()},
            "checked cells": len(checked_first),
        }
        if path.stem == "05_pricing":
            result["slider"] = _drag_a_calculator_slider(page)
        REPORT["notebooks"][path.name] = result
        for problems in (after_first, after_second):
            assert problems == {k: [] for k in problems}, (path.name, problems)
        # what the saved notebook says: no error or stderr, and the same checked outputs twice
        assert errors_first == [] and errors_second == [], (path.name, errors_first, errors_second)
        assert checked_first, f"{path.name} has no checked cell"
        for (index, before), (_, after) in zip(checked_first, checked_second, strict=True):
            assert before == after, f"{path.name} cell {index} differs on the second run"
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / f"FAILED-{path.stem}.png"))
        raise
    finally:
        page.close()


def _drag_a_calculator_slider(page) -> dict:
    """Drag the calculator's "shards" slider to the right: the total must change."""
    summary = page.locator(".widget-html", has_text="Total: USD").first
    summary.scroll_into_view_if_needed()
    before = summary.inner_text()
    slider = page.locator(".widget-slider", has_text="shards").first
    slider.scroll_into_view_if_needed()
    track = slider.locator(".slider-container").first
    width = track.bounding_box()["width"]
    handle = slider.locator(".noUi-handle").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 160, box["y"] + box["height"] / 2, steps=12)
    page.mouse.up()
    page.wait_for_function(
        "([el, before]) => el.innerText !== before",
        arg=[summary.element_handle(), before],
        timeout=30_000,
    )
    after = summary.inner_text()
    readout = slider.locator(".widget-readout").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "05_pricing_calculator_dragged.png"))
    assert after != before
    assert width >= 300, f"the slider's track is {width:.0f} px wide"
    return {"before": before, "after": after, "shards readout": readout, "track px": width}


def test_the_voila_calculator_responds(browser_context):
    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "voila.log", "w")
    process = subprocess.Popen(
        [
            str(BIN / "voila"),
            str(ROOT / "apps" / "calculator.ipynb"),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
        ],
        cwd=ROOT,
        env={**os.environ, "STREAMKIT_BACKEND": "local"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    page = browser_context.new_page()
    began = time.monotonic()
    try:
        _wait_http(f"http://127.0.0.1:{port}/", 90, process)
        page.goto(f"http://127.0.0.1:{port}/")
        summary = page.locator(".widget-html", has_text="Total: USD").first
        summary.wait_for(timeout=120_000)
        before = summary.inner_text()
        assert "calculator_widget(" not in page.inner_text("body")  # the controls, no code
        region = page.locator(".widget-dropdown", has_text="region").locator("select")
        region.select_option("eu-central-1")
        page.wait_for_function(
            "([el, before]) => el.innerText !== before",
            arg=[summary.element_handle(), before],
            timeout=30_000,
        )
        after = summary.inner_text()
        page.screenshot(path=str(ARTIFACTS / "voila_calculator.png"), full_page=True)
        REPORT["voila"] = {
            "before": before,
            "after": after,
            "seconds": round(time.monotonic() - began, 1),
        }
        assert "eu-central-1" in after and after != before
    finally:
        page.close()
        _stop(process)
        log.close()
