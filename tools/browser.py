"""Run notebooks in a real browser: JupyterLab on 127.0.0.1, Debian's Chromium, Playwright.

    python tools/browser.py [--artifacts DIR] [--frontends lab,notebook] [NOTEBOOK ...]

NOTEBOOK is a name, a path or a number (07). Default: every notebooks/NN_*.ipynb in JupyterLab 4,
and notebook 07 once more in Notebook 7 (--frontends runs every named notebook in each front end
given instead).

For each front end and notebook: copy the notebook to a fresh folder, open it, clear it, run
all cells once, wait for the kernel, and check from the page itself that no cell failed, that
nothing was fetched from outside 127.0.0.1, that every plot, widget and table the kernel sent is
drawn (no broken image, no "Error displaying widget"), and that the rich outputs the notebook
promises are there (EXPECTED: plots, widgets, attention views with their token labels and lines,
tables); then shut its kernel down before the next. A full-length screenshot per notebook
(NN_name.jpg) and a JSON report go to the artifacts folder, one subfolder per front end.
tests/test_browser.py runs this in a network namespace with only a loopback interface, so neither
the kernel nor the page can reach any network.

Like the notebook tests, the server and its kernels run offline, with strict checks, under
Binder's memory limit (RLIMIT_DATA, course_utils/repo/kernel_limits.py). Training runs go to
$COURSE_RUNS when it is set: the test command runs this after every notebook's nbval, in the same
runs folder, so notebooks 09 and 10 resume the runs nbval finished, as a learner's rerun does.
Without it they go to an empty folder of its own, and notebook 09 trains.
JupyterLab reads binder/overrides.json as its settings overrides, as on Binder: the report says
whether the server turned the news prompt off. Memory is read exactly (VmHWM, the process's
own resident high-water mark; course_utils/repo/kernel_peak.py): each notebook's kernel just
before it is shut down, and the Jupyter server's over the whole run, printed at the end as
kernel plus server against Binder's 2 GB (and kept in the report).

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

from course_utils.repo import kernel_limits, kernel_peak

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK7 = ["07_visualising_attention.ipynb"]  # also run in Notebook 7 by default
OVERRIDES = ROOT / "binder" / "overrides.json"  # Binder's JupyterLab settings overrides
# The Colab and Binder badge images at the top of every notebook: blocked like everything else
# from outside, listed in the report, and not a failure (a badge is a link, not an output).
BADGES = ("https://colab.research.google.com/assets/colab-badge.svg",
          "https://mybinder.org/badge_logo.svg")
LAB_SETTINGS = {
    # the news prompt is turned off by binder/overrides.json (see start_lab)
    # draw every cell, not only those scrolled into view, so the checks see every output
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

# What the page must show for a notebook, beyond "no cell failed" and "every output drawn"
# (CSS selector -> minimum count). A notebook without an entry gets those checks only.
IMAGE = ".jp-RenderedImage img"  # a matplotlib figure (image/png output)
MARKDOWN = ".jp-OutputArea-output.jp-RenderedMarkdown"  # a Markdown output
DATAFRAME = ".jp-OutputArea-output table.dataframe"  # a pandas table
EXPECTED: dict[str, dict[str, int]] = {
    # the registry table (Markdown) and the similarity heatmap
    "00_setup_and_tour.ipynb": {MARKDOWN + " table tr": 10, IMAGE: 1},
    # the similarity heatmap, the two-panel figure and the rest (5 figures in all)
    "01_pipelines.ipynb": {IMAGE: 5},
    # fertility bars, the attention mask, vocabulary size; tokens on coloured backgrounds
    "02_inside_the_pipeline.ipynb": {IMAGE: 3,
                                     '.jp-RenderedHTMLCommon span[style*="background"]': 10},
    # masks, positions, sinusoids, the cost of attention against length
    "03_attention_from_scratch.ipynb": {IMAGE: 4},
    # the mask, pretraining loss, similarity heatmap, the embedding map
    "04_encoder_models.ipynb": {IMAGE: 4},
    # decoding distributions, the KV cache timing; the sampling explorer widget (two sliders,
    # its bars)
    "05_decoder_models.ipynb": {IMAGE: 2, ".jupyter-widgets .widget-slider": 2,
                                ".jupyter-widgets .widget-html table": 1},
    # the three masks, training curves, cross-attention learning an alignment
    "06_encoder_decoder_models.ipynb": {IMAGE: 3},
    "07_visualising_attention.ipynb": {
        '.cu-head-view[data-rendered="yes"]': 3,
        '.cu-model-view[data-rendered="yes"]': 2,
        ".cu-head-view svg line": 100,
        ".cu-attention-explorer table.cu-attention-table td": 100,
        IMAGE: 8,
    },
    # the data set's distributions, the curation steps table, the data card (Markdown)
    "08_curating_datasets.ipynb": {IMAGE: 1, DATAFRAME: 1, MARKDOWN: 1},
    # training curves, the confusion matrix; the mistakes and curated-vs-raw tables
    "09_fine_tuning.ipynb": {IMAGE: 2, DATAFRAME: 2},
    # pronoun ratios, identity-term gaps, token cost per language; the gap, completion, facts,
    # cost and mitigation tables
    "10_bias_and_limitations.ipynb": {IMAGE: 3, DATAFRAME: 4},
}
TIMEOUTS = {"09_fine_tuning.ipynb": 1200, "06_encoder_decoder_models.ipynb": 1200,
            "10_bias_and_limitations.ipynb": 900}  # seconds
DEFAULT_TIMEOUT = 900  # a notebook without an entry (18 to 284 s on 2 idle cores; with other
# heavy jobs on the machine 04 once took over 8 minutes: these limits only end a run that hangs)

# What the kernel sent (the notebook model) against what the page drew, for every output.
OUTPUTS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const sent = {images: 0, widgets: 0};
  for (const cell of panel.content.widgets) {
    if (cell.model.type !== 'code') continue;
    const outputs = cell.model.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const data = outputs.get(i).toJSON().data || {};
      if (data['image/png'] || data['image/jpeg']) sent.images++;
      if (data['application/vnd.jupyter.widget-view+json']) sent.widgets++;
    }
  }
  const node = panel.node;
  const images = [...node.querySelectorAll('.jp-RenderedImage img')];
  const outputs = [...node.querySelectorAll('.jp-OutputArea-output')];
  // a cell's own outputs (not those inside an Output widget) that hold a drawn widget
  const widgets = outputs.filter(o => !o.parentElement.closest('.jupyter-widgets') &&
    (o.matches('.jupyter-widgets') || o.querySelector('.jupyter-widgets')));
  return {
    sent: sent,
    images_drawn: images.filter(i => i.complete && i.naturalWidth > 0).length,
    widgets_drawn: widgets.length,
    widget_errors: outputs.filter(o => /Error displaying widget|Loading widget\\.\\.\\./
                                       .test(o.textContent)).map(o => o.textContent.slice(0, 200)),
    tables: node.querySelectorAll('.jp-OutputArea-output table').length,
    outputs: outputs.length,
  };
}"""

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


def start_lab(folder: Path, port: int, log: Path, runs: Path,
              limit: int | None) -> subprocess.Popen:
    """JupyterLab (and Notebook 7) on 127.0.0.1:port serving folder/notebooks; the server and
    the kernels it starts run under `limit` (RLIMIT_DATA) and train into `runs`."""
    settings = folder / "lab-settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    app_settings = folder / "lab-app-settings"  # as postBuild installs it on Binder
    app_settings.mkdir()
    shutil.copy(OVERRIDES, app_settings / "overrides.json")
    env = {**kernel_limits.kernel_env(), "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(folder / "lab-workspaces"),
           "JUPYTER_RUNTIME_DIR": str(folder / "runtime"), "COURSE_RUNS": str(runs),
           "HF_HUB_OFFLINE": "1", "COURSE_STRICT_CHECKS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--IdentityProvider.token=", "--ServerApp.password=",
           "--ServerApp.disable_check_xsrf=True", "--LabApp.expose_app_in_browser=True",
           "--JupyterNotebookApp.expose_app_in_browser=True",
           f"--LabApp.app_settings_dir={app_settings}",
           f"--ServerApp.root_dir={folder / 'notebooks'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    extra = {"preexec_fn": kernel_limits.limiter(limit)} if limit else {}
    process = subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                               **extra)
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
NEWS = "@jupyterlab/apputils-extension:notification"


def api(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=10) as answer:
        return json.load(answer)


def news_setting(port: int) -> str | None:
    """fetchNews as the running server serves it (its default, after overrides)."""
    schema = api(port, f"lab/api/settings/{NEWS}")["schema"]
    return schema["properties"]["fetchNews"].get("default")


def wait_for_no_kernels(port: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not api(port, "api/kernels"):
            return True
        time.sleep(0.5)
    return False


def screenshot_all(page, path: Path) -> None:
    """The whole notebook in one picture: the window made as tall as the notebook (at most
    16,000 px), a JPEG, then the window put back."""
    size = page.viewport_size
    height = page.evaluate(
        "() => { const p = window.jupyterapp.shell.currentWidget;"
        " const n = p && p.content && p.content.node; if (!n) return 0;"
        " const outer = n.querySelector('.jp-WindowedPanel-outer') || n;"
        " outer.scrollTop = 0; return outer.scrollHeight; }")
    page.set_viewport_size({"width": size["width"],
                            "height": max(size["height"], min(int(height) + 250, 16_000))})
    page.wait_for_timeout(1500)  # relayout and repaint
    page.screenshot(path=str(path), type="jpeg", quality=70)
    page.set_viewport_size(size)


def memory_now(server_pid: int | None) -> dict[str, int | None]:
    """Exact resident figures in bytes: the Jupyter server's high-water mark and current size,
    and the largest high-water mark among its kernels (its ipykernel child processes)."""
    if server_pid is None:
        return {}
    import psutil

    kernels = []
    try:
        children = psutil.Process(server_pid).children()
    except psutil.Error:
        children = []
    for child in children:
        try:
            if any("ipykernel" in part for part in child.cmdline()):
                kernels.append(kernel_peak.status_bytes(child.pid))
        except psutil.Error:  # a kernel that ended meanwhile
            continue
    return {"server_peak": kernel_peak.status_bytes(server_pid),
            "server_rss": kernel_peak.status_bytes(server_pid, "VmRSS"),
            "kernel_peak": max((k for k in kernels if k is not None), default=None)}


def mib(n: int | None) -> str:
    return "-" if n is None else kernel_peak.mib(n)


def run_notebook(page, port: int, frontend: str, name: str, artifacts: Path,
                 timeout: float, server_pid: int | None = None) -> dict:
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
    # ?reset: JupyterLab would otherwise reopen the last page's notebook, and start its kernel
    reset = "?reset" if frontend == "lab" else ""
    page.goto(f"http://127.0.0.1:{port}/{FRONTENDS[frontend]}/{frontend}/{name}{reset}")
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
    check_outputs_drawn(page, report)
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
    screenshot_all(page, artifacts / f"{Path(name).stem}.jpg")
    report["memory"] = memory_now(server_pid)  # before the kernel goes: its exact peak
    # free the kernel's memory before the next notebook
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    if not wait_for_no_kernels(port):
        left = api(port, "api/kernels")
        report["problems"].append(f"{len(left)} kernels still running 30 s after the shutdown")
        for kernel in left:  # do not let them slow the next notebook
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/kernels/{kernel['id']}", method="DELETE")
            urllib.request.urlopen(request, timeout=30).close()
    return report


def check_outputs_drawn(page, report: dict) -> None:
    """Every figure and widget the kernel sent is drawn on the page, and no widget failed."""
    seen = page.evaluate(OUTPUTS_JS)
    report["outputs"] = seen
    sent = seen["sent"]
    if seen["images_drawn"] < sent["images"]:
        report["problems"].append(f"{sent['images']} figures sent, {seen['images_drawn']} drawn")
    if seen["widgets_drawn"] < sent["widgets"]:
        report["problems"].append(f"{sent['widgets']} widgets sent, {seen['widgets_drawn']} "
                                  "drawn")
    if seen["widget_errors"]:
        report["problems"].append(f"widgets not displayed: {seen['widget_errors'][:3]}")


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


def all_notebooks() -> list[str]:
    return sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def notebook_name(given: str) -> str:
    """'07', '07_visualising_attention.ipynb' or 'notebooks/07_...ipynb' -> the file name."""
    name = Path(given).name
    if (NOTEBOOKS / name).is_file():
        return name
    matches = [n for n in all_notebooks() if n.startswith(name)]
    if len(matches) != 1:
        raise SystemExit(f"{given!r}: no single notebook in notebooks/ matches it")
    return matches[0]


def plan(notebooks: list[str], frontends: str | None) -> list[tuple[str, str]]:
    """(front end, notebook) pairs to run, JupyterLab first."""
    names = [notebook_name(n) for n in notebooks] or all_notebooks()
    if frontends is None:
        return [("lab", n) for n in names] + [("notebook", n) for n in names if n in NOTEBOOK7]
    chosen = [f.strip() for f in frontends.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FRONTENDS]
    if unknown or not chosen:
        raise SystemExit(f"--frontends takes lab and/or notebook, got {frontends!r}")
    return [(f, n) for f in chosen for n in names]


def timeout_of(name: str, given: float | None) -> float:
    return given if given else TIMEOUTS.get(name, DEFAULT_TIMEOUT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*",
                        help="names, paths or numbers (default: every notebook)")
    parser.add_argument("--artifacts", default=str(ROOT / "test-artifacts" / "browser"))
    parser.add_argument("--timeout", type=float, default=None,
                        help=f"seconds per notebook (default {DEFAULT_TIMEOUT}, more for some)")
    parser.add_argument("--frontends", default=None,
                        help="lab (JupyterLab 4), notebook (Notebook 7), or both, for every "
                        "notebook (default: JupyterLab for all, Notebook 7 also for 07)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    runs_plan = plan(args.notebooks, args.frontends)
    artifacts = Path(args.artifacts)
    folder = Path(tempfile.mkdtemp(prefix="course-browser-"))
    for frontend, name in runs_plan:  # a fresh copy per front end
        (artifacts / frontend).mkdir(parents=True, exist_ok=True)
        for old in (artifacts / frontend).glob(name[:3] + "*"):  # last run's pictures
            old.unlink()
        (folder / "notebooks" / frontend).mkdir(parents=True, exist_ok=True)
        shutil.copy(NOTEBOOKS / name, folder / "notebooks" / frontend / name)
    # the test command's runs folder (its notebooks' finished runs), else an empty one of our own
    runs = Path(os.environ.get("COURSE_RUNS") or tempfile.mkdtemp(prefix="runs-", dir=folder))
    limit = kernel_limits.kernel_data_limit()
    print(kernel_limits.describe(limit), flush=True)
    port = free_port()
    lab = start_lab(folder, port, artifacts / "jupyterlab.log", runs, limit)
    reports = []
    started = time.monotonic()
    try:
        news = news_setting(port)
        with sync_playwright() as playwright:
            # Playwright gives each launch a fresh, empty profile (user-data dir) of its own
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            for frontend, name in runs_plan:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                console: list[str] = []
                page.on("pageerror", lambda error, log=console: log.append(str(error)))
                report = run_notebook(page, port, frontend, name, artifacts / frontend,
                                      timeout_of(name, args.timeout), lab.pid)
                report["page_errors"] = console
                reports.append(report)
                memory = report["memory"]
                print(f"{frontend}: {name}: {'ok' if not report['problems'] else 'FAILED'}"
                      f" in {report['seconds']} s; kernel peak {mib(memory.get('kernel_peak'))},"
                      f" server {mib(memory.get('server_rss'))} (peak so far"
                      f" {mib(memory.get('server_peak'))})", flush=True)
                page.close()
            browser.close()
    finally:
        server = memory_now(lab.pid)  # the server's high-water mark over the whole run
        lab.terminate()
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            lab.kill()
        shutil.rmtree(folder, ignore_errors=True)  # with our own runs folder; $COURSE_RUNS stays
    total = round(time.monotonic() - started, 1)
    kernel = max((r["memory"].get("kernel_peak") or 0 for r in reports), default=0)
    server_peak = server.get("server_peak") or 0
    summary = {"seconds": total, "fetchNews served": news, "kernel data limit": limit,
               "server peak bytes": server_peak or None,
               "largest kernel peak bytes": kernel or None, "notebooks": reports}
    (artifacts / "report.json").write_text(json.dumps(summary, indent=2))
    if news != "false":
        print(f"  - binder/overrides.json did not turn the news off: fetchNews {news!r}")
    print(f"{len(reports)} notebook runs in {total} s; fetchNews served as {news!r}")
    if server_peak:
        print(f"memory (exact, VmHWM): Jupyter server peak {mib(server_peak)}, largest kernel peak"
              f" {mib(kernel or None)}; together at most {mib(server_peak + kernel)}"
              f" ({(server_peak + kernel) / 1e9:.2f} GB) against Binder's 2 GB")
    for report in reports:
        verdict = "ok" if not report["problems"] else "FAILED"
        print(f"{report['frontend']}: {report['notebook']}: {verdict} in {report['seconds']} s;"
              f" found {report['found']}")
        for problem in report["problems"]:
            print("  -", problem)
    return 0 if news == "false" and all(not r["problems"] for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
