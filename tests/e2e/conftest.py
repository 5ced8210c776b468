"""Browser tests: Playwright (Python) driving Debian's chromium against pytest-django's live_server.

Never runs ``playwright install``: the browser is /usr/bin/chromium (CI installs the Debian
package). Without it these tests are skipped with that reason. Screenshots at 390x844 go to
``test-artifacts/`` (git-ignored). axe-core (tests/e2e/vendor/axe.min.js, vendored from its
npm package) is injected into each page; serious or critical violations fail the test.
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"

# Playwright's sync API runs an event loop in this thread; Django's ORM (used by the tests to
# seed data) refuses to run "inside" one unless told it is safe - it is: nothing here is async.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install -y chromium); CI installs it")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
        base_url=live_server.url,
        accept_downloads=True,
        locale="zh-CN",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def zh_translations(settings, tmp_path):
    """Compile locale/zh_Hans into a temp dir and put it first in LOCALE_PATHS (the live server
    runs in this process; Django drops its catalog cache when LOCALE_PATHS changes). Returns
    False when gettext's msgfmt is not installed (pages then show the English source strings)."""
    import shutil
    import subprocess

    po = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None or not po.exists():
        return False
    out = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    out.mkdir(parents=True)
    subprocess.run([msgfmt, "-o", str(out / "django.mo"), str(po)], check=True)
    settings.LOCALE_PATHS = [str(tmp_path / "locale"), *settings.LOCALE_PATHS]
    return True


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def assert_accessible(page) -> None:
    """No serious or critical axe-core violations on the current page."""
    # Evaluated, not added as a <script> tag: the pages' Content-Security-Policy blocks inline scripts.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"axe violations on {page.url}: {bad}"


def set_english(page, live_server) -> None:
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])


def docs_img_dir() -> Path:
    """Where the journeys save the screenshots the docs show.

    ``docs/img`` (committed) only when asked for with ``DOCS_SCREENSHOTS=1``, so that an ordinary
    ``make test`` leaves the work tree clean; otherwise ``test-artifacts/docs-img`` (git-ignored).
    """
    if os.environ.get("DOCS_SCREENSHOTS") == "1":
        folder = Path(__file__).resolve().parents[2] / "docs" / "img"
    else:
        folder = ARTIFACTS / "docs-img"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- staff pages: one login fixture for every staff journey ---------------------------------------------

STAFF_SCREEN = {"width": 1366, "height": 900}
STAFF_PASSWORD = "correct horse battery"  # tests.factories.users.StaffUserFactory


@pytest.fixture
def staff_page(browser, live_server, zh_translations):
    """``login(user, lang)`` -> a page of a fresh 1366x900 context, logged in through the real form.

    One context per person, so two people (engineer and QC) can work side by side in one test.
    """
    contexts = []

    def login(user, lang: str = "zh-hans"):
        context = browser.new_context(
            viewport=STAFF_SCREEN,
            base_url=live_server.url,
            device_scale_factor=1,
            locale="zh-CN" if lang == "zh-hans" else "en-US",
        )
        context.set_default_timeout(15_000)
        context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
        contexts.append(context)
        page = context.new_page()
        page.goto("/admin/login/?next=/admin/")
        page.locator("#id_username").fill(user.username)
        page.locator("#id_password").fill(STAFF_PASSWORD)
        page.locator("#login-form [type=submit]").click()
        page.wait_for_url(re.compile(r"/admin/$"))
        return page

    yield login
    for context in contexts:
        context.close()
