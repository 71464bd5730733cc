"""The rendered book as a reader sees it: both editions built, served on localhost and opened
in headless Chromium.  Screenshots of every chapter go to ``_build/screenshots``."""
import functools
import http.server
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from nnsrm_utils import editions

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "_build" / "screenshots"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package (apt install chromium)")


@functools.lru_cache
def _built():
    """Build the book and the student edition (the Makefile's targets; notebook execution is cached)."""
    subprocess.run(["make", "-C", str(ROOT), "book", "student-book"], check=True)
    return {"book": ROOT / "_build" / "html", "student": ROOT / "_build" / "student" / "_build" / "html"}


@pytest.fixture(scope="module")
def browser():
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
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

    figures = main.locator("img[src*='_images/']")  # the chapter's figures (not the badge or button icons)
    assert figures.count() >= 1
    for i in range(figures.count()):
        assert figures.nth(i).evaluate("img => img.complete && img.naturalWidth > 0"), f"figure {i} did not load"
        assert figures.nth(i).evaluate("img => img.closest('figure')?.querySelector('figcaption')?.innerText.length > 20"), \
            f"figure {i} has no caption"

    # the student edition's badge and launch button open the published stubs, never the solutions
    colab = editions.colab_url(chapter, branch=editions.student_branch() if edition == "student" else None)
    assert main.locator(f"a[href='{colab}']").count() >= 1, "no Colab badge with this chapter's path"
    assert page.locator(f"a[href='{colab}']").count() >= 2, "no Colab launch button with this chapter's path"

    solutions = main.locator(".solution")
    if edition == "book":
        assert solutions.count() >= 1
        assert all(not solutions.nth(i).locator(".admonition-title ~ *").first.is_visible()
                   for i in range(solutions.count())), "solutions must start folded"
    else:
        assert solutions.count() == 0 and "# Hint:" not in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{edition}-{chapter.stem}.png"), full_page=True)
