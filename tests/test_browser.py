"""The rendered book as a reader sees it: both editions built, served on localhost and opened
in headless Chromium with every request off this machine refused (a classroom without a
network: MathJax and every figure must come from the book itself).  Screenshots of every
chapter go to ``_build/screenshots``.  A user's ``make test`` skips without Chromium; CI
(``CI`` set) fails instead: ``.ci/run`` installs it."""
import functools
import http.server
import importlib
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from nnsrm_utils import editions

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "_build" / "screenshots"
IN_CI = bool(os.environ.get("CI"))
pytestmark = pytest.mark.skipif(CHROMIUM is None and not IN_CI,
                                reason="needs Debian's chromium package (apt install chromium)")


@functools.lru_cache
def _built():
    """Build the book and the student edition (the Makefile's targets, from the committed outputs)."""
    subprocess.run(["make", "-C", str(ROOT), "book", "student-book"], check=True)
    return {"book": ROOT / "_build" / "html", "student": ROOT / "_build" / "student" / "_build" / "html"}


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("CI must run the browser test: install Debian's chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _serve(folder):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module", params=["book", "student"])
def site(request, browser):
    server = _serve(_built()[request.param])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    local = f"http://127.0.0.1:{server.server_address[1]}/"
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(local) else route.abort())
    yield request.param, f"http://127.0.0.1:{server.server_address[1]}", page
    page.close()
    server.shutdown()


@pytest.mark.parametrize("chapter", editions.chapters(), ids=lambda p: p.stem)
def test_chapter_page(site, chapter):
    edition, url, page = site
    response = page.goto(f"{url}/notebooks/{chapter.stem}.html", wait_until="load")
    assert response.ok
    main = page.locator("main")
    assert main.locator("h1").first.inner_text().strip()
    text = main.inner_text()
    assert "Traceback" not in text and "Warning:" not in text and " object at 0x" not in text

    # every formula typeset by the MathJax the book ships (no raw TeX left)
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")
    formulas = main.locator(".math")
    assert formulas.count() == main.locator(".math mjx-container").count(), "a formula was not typeset"
    assert "\\(" not in main.inner_text() and "\\[" not in main.inner_text()

    images = main.locator("img")  # the Colab badge, served by the book too, and the figures
    for i in range(images.count()):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0"), \
            f"image {images.nth(i).get_attribute('src')} did not load"
    figures = main.locator("img[src*='_images/']")
    assert figures.count() >= 1
    for i in range(figures.count()):
        assert figures.nth(i).evaluate("img => img.closest('figure')?.querySelector('figcaption')?.innerText.length > 20"), \
            f"figure {i} has no caption"

    # the student edition's badge and launch button open the published stubs, never the solutions
    colab = editions.colab_url(chapter, branch=editions.student_branch() if edition == "student" else None)
    assert main.locator(f"a[href='{colab}']").count() >= 1, "no Colab badge with this chapter's path"
    assert page.locator(f"a[href='{colab}']").count() >= 2, "no Colab launch button with this chapter's path"

    solutions = main.locator(".solution")
    if not chapter.name[0].isdigit():  # the package reference's worked page has no exercises
        assert solutions.count() == 0
    elif edition == "book":
        assert solutions.count() >= 1
        assert all(not solutions.nth(i).locator(".admonition-title ~ *").first.is_visible()
                   for i in range(solutions.count())), "solutions must start folded"
    else:
        assert solutions.count() == 0 and "# Hint:" not in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{edition}-{chapter.stem}.png"), full_page=True)


REFERENCE = sorted((ROOT / "book" / "reference").glob("*.md"))


@pytest.mark.parametrize("reference", REFERENCE, ids=lambda p: p.stem)
def test_reference_page(site, reference):
    """The package reference, generated from the docstrings: every module of the page is there,
    with its public functions and classes, and nothing failed to import."""
    _, url, page = site
    response = page.goto(f"{url}/book/reference/{reference.stem}.html", wait_until="load")
    assert response.ok
    main = page.locator("main")
    text = main.inner_text()
    examples = " ".join(main.locator("pre").all_inner_texts())  # a doctest may show the error it expects
    assert text.count("Traceback") == examples.count("Traceback") and "automodule" not in text
    modules = re.findall(r"automodule:: (\S+)", reference.read_text())
    assert modules
    for module in modules:
        assert main.locator(f"[id='module-{module}']").count() == 1, f"{module} is not documented"
        public = [n for n, v in vars(importlib.import_module(module)).items()
                  if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == module
                  and getattr(v, "__doc__", None)]
        for name in public:
            assert main.locator(f"[id='{module}.{name}']").count() == 1, f"{module}.{name} is missing"
