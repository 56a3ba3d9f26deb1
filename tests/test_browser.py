"""The book as a reader sees it: every page in headless Chromium, at desktop and phone width.

The book is built from the notebooks' stored outputs (nbval checks that those are true), served
on 127.0.0.1 and loaded in Debian's Chromium through Selenium at 1280 px and at 390 px. A page
fails on what a reader would see as broken: a table left as raw ``| a | b |`` text, a page wider
than the screen, a code cell or table wider than its column (desktop), an image without alt
text, TeX left unrendered, a heading that breaks the contents, more than one search box, an
error in the browser's console. A screenshot of every page at both widths is saved under
``_build/screenshots/``, with ``heights.json``: the height of every page in screens.

Where Chromium or its driver is missing, every test here skips and says so; ``.ci/run``
installs both (Debian packages ``chromium`` and ``chromium-driver``).
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
import yaml
from book_toc import toc_files

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WIDTHS = {"desktop": 1280, "phone": 390}
SCREEN_HEIGHT = 800

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="headless Chromium and ChromeDriver are needed "
    "(apt-get install chromium chromium-driver)",
)


PAGES = [f"{name}.html" for name in toc_files()]


# ----------------------------------------------------------------------------- building, serving


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the book from the stored outputs into a fresh folder and serve it on 127.0.0.1."""
    out = tmp_path_factory.mktemp("book")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"  # the stored outputs, as nbval checked them
    # Paths in a configuration file are read from the file's folder: make them absolute.
    extensions = config["sphinx"].get("local_extensions", {})
    config["sphinx"]["local_extensions"] = {n: str(ROOT / p) for n, p in extensions.items()}
    config_file = out / "_config.yml"
    config_file.write_text(yaml.safe_dump(config))
    build = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT),
         "--config", str(config_file), "--path-output", str(out), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    html = out / "_build" / "html"

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def heights():
    """Page heights in screens of 800 px, written to heights.json when the module ends."""
    found: dict[str, dict[str, float]] = {}
    yield found
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "heights.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    for page, by_width in found.items():
        old.setdefault(page, {}).update(by_width)
    path.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")


# ----------------------------------------------------------------------------- what is measured

# Runs in the page once MathJax is done and returns what a reader would see as broken.
PROBLEMS_JS = (Path(__file__).parent / "page_problems.js").read_text()

WAIT_FOR_MATH_JS = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) { done("none"); return; }
MathJax.startup.promise.then(() => done("ok"), (error) => done("MathJax failed: " + error));
"""


def _console_errors(driver):
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


DECODE_IMAGES_JS = """
const done = arguments[arguments.length - 1];
const images = [...document.querySelectorAll("img")];
for (const img of images) img.scrollIntoView();
window.scrollTo(0, 0);
Promise.all(images.map((img) => img.decode().catch(() => null))).then(() => done(true));
"""


def _screenshot(driver, path):
    """The whole page as one PNG: the viewport made as tall as the page, then restored."""
    driver.execute_async_script(DECODE_IMAGES_JS)
    width = driver.execute_script("return window.innerWidth")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        driver.execute_async_script(DECODE_IMAGES_JS)
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path.write_bytes(base64.b64decode(shot["data"]))
    return height


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("page", PAGES)
def test_page_reads_as_intended(site, browser, heights, page, width):
    browser.set_window_size(WIDTHS[width], SCREEN_HEIGHT)
    browser.get_log("browser")  # drop what an earlier page left
    browser.get(f"{site}/{page}")
    math = browser.execute_async_script(WAIT_FOR_MATH_JS)
    assert math in ("ok", "none"), f"{page}: {math}"  # none: a page without math
    problems = browser.execute_script(PROBLEMS_JS, width == "desktop")
    problems += [f"console: {message}" for message in _console_errors(browser)]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = page.removesuffix(".html").replace("/", "_")
    height = _screenshot(browser, SCREENSHOTS / f"{name}-{WIDTHS[width]}.png")
    heights.setdefault(name, {})[str(WIDTHS[width])] = round(height / SCREEN_HEIGHT, 1)
    assert not problems, f"{page} at {WIDTHS[width]} px:\n" + "\n".join(problems[:25])


# ----------------------------------------------------------------------------- the checks fail


DOT_PNG = (  # one pixel
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/"
    "PchI7wAAAABJRU5ErkJggg=="
)

BROKEN_PAGE = """<!doctype html><html><head><meta name="viewport" content="width=device-width">
<script>window.MathJax = {startup: {promise: Promise.resolve()}};</script></head>
<body><article class="bd-article" style="width: 600px">
<p>| a | b | |—|—|</p>
<div class="cell"><pre>{code}</pre></div>
<img src="{dot}">
<p>an unrendered $\\alpha_c$ here</p>
<span class="math">\\(x\\)</span>
<div style="width: 2000px">wide</div>
</article></body></html>"""


def test_the_page_checks_catch_a_broken_page(browser, tmp_path):
    page = tmp_path / "broken.html"
    code = "x = 1  # " + "y" * 300
    page.write_text(BROKEN_PAGE.replace("{code}", code).replace("{dot}", DOT_PNG))
    browser.set_window_size(WIDTHS["desktop"], SCREEN_HEIGHT)
    browser.get(page.as_uri())
    problems = "\n".join(browser.execute_script(PROBLEMS_JS, True))
    for expected in (
        "raw table text",
        "page is",
        "code wider than its column",
        "image without alt text",
        "raw TeX",
        "math not rendered",
    ):
        assert expected in problems, f"{expected!r} not found in:\n{problems}"


def test_the_page_checks_pass_a_sound_page(browser, tmp_path):
    page = tmp_path / "sound.html"
    page.write_text(
        '<!doctype html><html><body><article class="bd-article" style="width: 600px">'
        "<table><tr><td>a</td><td>b</td></tr></table><pre>x = 1</pre>"
        f'<img alt="a dot" src="{DOT_PNG}"></article></body></html>'
    )
    browser.set_window_size(WIDTHS["desktop"], SCREEN_HEIGHT)
    browser.get(page.as_uri())
    assert browser.execute_script(PROBLEMS_JS, True) == []
