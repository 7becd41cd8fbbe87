"""Run notebooks in a real browser: JupyterLab on 127.0.0.1, Debian's Chromium, Playwright.

    python tests/browser.py [--artifacts DIR] [--frontends lab,notebook] [NOTEBOOK ...]
    (default: notebook 07, in JupyterLab 4 and in Notebook 7)

For each front end and notebook: copy the notebook to a fresh folder, open it, clear it, run
all cells once, wait for the kernel, and check from the page itself that no cell failed, that
nothing was fetched from outside 127.0.0.1, and that the rich outputs the notebook promises are
drawn (attention views with their token labels and lines, widgets, plots). Screenshots and a
JSON report go to the artifacts folder, one subfolder per front end. tests/test_browser.py runs
this in a network namespace with only a loopback interface, so neither the kernel nor the page
can reach any network.

Exit status 0 when every notebook passes; the report says what failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
DEFAULT = ["07_visualising_attention.ipynb"]
# The Colab and Binder badge images at the top of every notebook: blocked like everything else
# from outside, listed in the report, and not a failure (a badge is a link, not an output).
BADGES = ("https://colab.research.google.com/assets/colab-badge.svg",
          "https://mybinder.org/badge_logo.svg")
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    # draw every cell, not only those scrolled into view, so the checks see every output
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

# What the page must show for a notebook, beyond "no cell failed" (CSS selector -> minimum).
EXPECTED: dict[str, dict[str, int]] = {
    "07_visualising_attention.ipynb": {
        '.cu-head-view[data-rendered="yes"]': 3,
        '.cu-model-view[data-rendered="yes"]': 2,
        ".cu-head-view svg line": 100,
        ".cu-attention-explorer table.cu-attention-table td": 100,
        ".jp-RenderedImage img": 8,
    },
}

STATE_JS = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return null;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  const errors = [];
  for (const cell of cells) {
    const outputs = cell.model.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs.get(i).toJSON();
      if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue);
    }
  }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {code_cells: cells.length,
          done: cells.filter(c => c.model.executionCount !== null).length,
          kernel: kernel ? kernel.status : 'none', errors: errors};
}"""


# The first head view's HTML as the kernel sent it (the page's copy has been changed by its script)
FIRST_VIEW_HTML_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  for (const cell of panel.content.widgets) {
    if (cell.model.type !== 'code') continue;
    const outputs = cell.model.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const data = outputs.get(i).toJSON().data;
      const html = data && data['text/html'];
      const text = html ? [].concat(html).join('') : '';
      if (text.includes('cu-head-view')) return text;
    }
  }
  return null;
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_lab(folder: Path, port: int, log: Path) -> subprocess.Popen:
    settings = folder / "lab-settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(folder / "lab-workspaces"),
           "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
           "HF_HUB_OFFLINE": "1", "COURSE_STRICT_CHECKS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--IdentityProvider.token=", "--ServerApp.password=",
           "--ServerApp.disable_check_xsrf=True", "--LabApp.expose_app_in_browser=True",
           "--JupyterNotebookApp.expose_app_in_browser=True",
           f"--ServerApp.root_dir={folder / 'notebooks'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    process = subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2):
                return process
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"JupyterLab did not answer within 90 s; see {log}")


FRONTENDS = {"lab": "lab/tree", "notebook": "notebooks"}  # Notebook 7 serves /notebooks/...


def run_notebook(page, port: int, frontend: str, name: str, artifacts: Path,
                 timeout: float) -> dict:
    started = time.monotonic()
    outside: list[str] = []

    def guard(route) -> None:
        url = route.request.url
        if url.startswith((f"http://127.0.0.1:{port}/", f"ws://127.0.0.1:{port}/")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", guard)
    page.goto(f"http://127.0.0.1:{port}/{FRONTENDS[frontend]}/{frontend}/{name}")
    page.wait_for_function(
        "() => { const p = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " return p && p.sessionContext && p.sessionContext.session &&"
        " p.sessionContext.session.kernel &&"
        " p.sessionContext.session.kernel.status === 'idle'; }", timeout=120_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    state = None
    while time.monotonic() - started < timeout:
        page.wait_for_timeout(1000)
        state = page.evaluate(STATE_JS)
        if state and (state["errors"] or (state["done"] == state["code_cells"]
                                         and state["kernel"] == "idle")):
            break
    page.wait_for_timeout(1500)  # let the last outputs paint
    report: dict = {"frontend": frontend, "notebook": name,
                    "seconds": round(time.monotonic() - started, 1),
                    "state": state, "outside_requests": outside, "found": {}, "problems": []}
    if state is None or state["done"] < state["code_cells"]:
        report["problems"].append(f"not every cell ran within {timeout:.0f} s: {state}")
    if state and state["errors"]:
        report["problems"].append(f"cells failed: {state['errors']}")
    unexpected = [url for url in outside if url not in BADGES]
    if unexpected:
        report["problems"].append(f"the page tried to fetch from outside: {unexpected[:5]}")
    for selector, minimum in EXPECTED.get(name, {}).items():
        count = page.locator(selector).count()
        report["found"][selector] = count
        if count < minimum:
            report["problems"].append(f"{selector}: {count} on the page, expected {minimum}+")
    if name.startswith("07_"):
        check_attention_page(page, report, artifacts)
    stem = Path(name).stem
    page.screenshot(path=str(artifacts / f"{stem}.png"), full_page=True)
    # free the kernel's memory before the next notebook
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    return report


def check_attention_page(page, report: dict, artifacts: Path) -> None:
    """Notebook 07: the first head view drew a label per token on both sides, the static
    fallback is hidden, and the explorer redraws when a sentence is typed into it."""
    view = page.locator('.cu-head-view[data-rendered="yes"]').first
    if view.count():
        labels = view.locator("svg text").count()
        report["found"]["first head view: token labels"] = labels
        if labels < 2 * 16:  # 16 tokens on each side
            report["problems"].append(f"the first head view drew {labels} token labels, "
                                      "expected 32 (16 tokens, both sides)")
        if view.locator(".cu-attn-fallback").is_visible():
            report["problems"].append("the static fallback is still showing after the script ran")
        view.scroll_into_view_if_needed()
        view.screenshot(path=str(artifacts / "07_head_view.png"))
        check_fallback(page, view, report, artifacts)
    model = page.locator('.cu-model-view[data-rendered="yes"]').first
    if model.count():
        model.scroll_into_view_if_needed()
        model.screenshot(path=str(artifacts / "07_model_view.png"))
    explorer = page.locator(".cu-attention-explorer").first
    if not explorer.count():
        report["problems"].append("the attention explorer widget is not on the page")
        return
    explorer.scroll_into_view_if_needed()
    before = explorer.locator("td").count()
    box = explorer.locator("input[type=text]").first
    box.fill("Birds sing.")
    box.press("Enter")
    try:
        page.wait_for_function(
            "() => { const e = document.querySelector('.cu-attention-explorer');"
            f" return e && e.querySelectorAll('td').length !== {before}; }}", timeout=20_000)
    except Exception:  # noqa: BLE001 - reported, not raised
        report["problems"].append("the explorer did not redraw after a new sentence was typed")
    report["found"]["explorer cells before/after typing"] = [before, explorer.locator("td").count()]
    explorer.screenshot(path=str(artifacts / "07_explorer.png"))


def check_fallback(page, view, report: dict, artifacts: Path) -> None:
    """The same view where scripts cannot run: its static picture and message must show."""
    output = page.evaluate(FIRST_VIEW_HTML_JS)
    if not output:
        report["problems"].append("no head view output found in the notebook model")
        return
    context = page.context.browser.new_context(java_script_enabled=False)
    try:
        static = context.new_page()
        static.set_content(f"<html><body>{output}</body></html>")
        picture = static.locator(".cu-attn-fallback img")
        width = "() => document.querySelector('.cu-attn-fallback img').naturalWidth"
        shown = picture.count() == 1 and picture.is_visible() and static.evaluate(width) > 0
        report["found"]["static fallback without JavaScript"] = shown
        if not shown or static.locator(".cu-attn-live").is_visible():
            report["problems"].append("without JavaScript the view does not show its picture")
        static.screenshot(path=str(artifacts / "07_head_view_without_javascript.png"))
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", default=DEFAULT)
    parser.add_argument("--artifacts", default=str(ROOT / "test-artifacts" / "browser"))
    parser.add_argument("--timeout", type=float, default=240, help="seconds per notebook")
    parser.add_argument("--frontends", default="lab,notebook",
                        help="lab (JupyterLab 4), notebook (Notebook 7), or both")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    frontends = [f.strip() for f in args.frontends.split(",") if f.strip()]
    unknown = [f for f in frontends if f not in FRONTENDS]
    if unknown or not frontends:
        parser.error(f"--frontends takes lab and/or notebook, got {args.frontends!r}")
    artifacts = Path(args.artifacts)
    folder = Path(tempfile.mkdtemp(prefix="course-browser-"))
    for frontend in frontends:  # a fresh copy per front end
        (artifacts / frontend).mkdir(parents=True, exist_ok=True)
        (folder / "notebooks" / frontend).mkdir(parents=True)
        for name in args.notebooks:
            shutil.copy(ROOT / "notebooks" / name, folder / "notebooks" / frontend / name)
    port = free_port()
    lab = start_lab(folder, port, artifacts / "jupyterlab.log")
    reports = []
    try:
        with sync_playwright() as playwright:
            # Playwright gives each launch a fresh, empty profile (user-data dir) of its own
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            for frontend in frontends:
                for name in args.notebooks:
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    console: list[str] = []
                    page.on("pageerror", lambda error, log=console: log.append(str(error)))
                    report = run_notebook(page, port, frontend, name, artifacts / frontend,
                                          args.timeout)
                    report["page_errors"] = console
                    reports.append(report)
                    page.close()
            browser.close()
    finally:
        lab.terminate()
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            lab.kill()
        shutil.rmtree(folder, ignore_errors=True)
    (artifacts / "report.json").write_text(json.dumps(reports, indent=2))
    for report in reports:
        verdict = "ok" if not report["problems"] else "FAILED"
        print(f"{report['frontend']}: {report['notebook']}: {verdict} in {report['seconds']} s;"
              f" found {report['found']}")
        for problem in report["problems"]:
            print("  -", problem)
    return 0 if all(not r["problems"] for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
