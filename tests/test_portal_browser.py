"""The portal in a real browser: Debian's chromium, headless, driven by Playwright (no browser is
downloaded), against the portal served by uvicorn on a free loopback port and a real warehouse.

Screenshots go to ``$IGA_SCREENSHOT_DIR`` (the README's come from
``IGA_SCREENSHOT_DIR=docs/portal make test PYTEST_ARGS='tests/test_portal_browser.py'``), else to
the test's own temporary folder.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from portal_support import clerk_file

pytestmark = pytest.mark.portal
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class PortalServer:
    """``create_app`` under uvicorn in a thread of this process, on a free port; stopped at exit."""

    def __init__(self, app):
        import uvicorn

        from etl.operate import free_port

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, access_log=False,
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the portal did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    folder = Path(os.environ.get("IGA_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make system-deps)")
def test_a_clerk_uploads_fixes_in_arabic_submits_and_the_nation_sees_it(warehouse_url, iga_home, tmp_path,
                                                                        screenshots):
    from playwright.sync_api import expect, sync_playwright

    from etl.accounts import ensure_demo_accounts
    from etl.config import settings
    from etl.ingest import ingest_file
    from etl.pipeline import configure_airflow, run_pipeline
    from etl.warehouse import engine
    from portal.app import create_app

    current = settings()
    (clerk, clerk_password, _), (national, national_password, _) = ensure_demo_accounts(
        engine(warehouse_url), current.portal_state)
    path, wrong = clerk_file(tmp_path, name="situation_agr_taounate_2013.xlsx", rows=24, errors=2, seed=11)
    assert len(wrong) == 2

    with PortalServer(create_app(current, engine(warehouse_url))) as portal, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            page.goto(f"{portal.url}/")
            page.fill("input[name=email]", clerk)
            page.fill("input[name=password]", clerk_password)
            page.click("button.primary")
            expect(page.locator("h1")).to_contain_text("Taounate")
            page.screenshot(path=str(screenshots / "portal-home.png"), full_page=True)

            # Upload: the dry run shows both wrong rows at their Excel rows, in French.
            page.select_option("select[name=period]", "2013")  # a late delivery of an earlier period
            page.set_input_files("#file-input", str(path))
            page.click("#upload-button")
            page.wait_for_url("**/uploads/*")
            rows = page.locator("#errors tr.finding").evaluate_all("rows => rows.map(r => +r.dataset.row)")
            assert rows == wrong
            expect(page.locator("html")).to_have_attribute("dir", "ltr")
            expect(page.locator("body")).to_contain_text("Ce qu'il faut corriger d'abord")
            expect(page.locator("#dry-run-figures")).to_contain_text("22")
            page.screenshot(path=str(screenshots / "portal-dry-run-fr.png"), full_page=True)

            # Arabic: the same page, right to left (the layout, not only the attribute).
            page.click("#switch-ar")
            page.wait_for_load_state()
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
            expect(page.locator("html")).to_have_attribute("lang", "ar")
            assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
            # A heading's text starts at the right edge of its block and ends short of the left.
            box, text = page.evaluate("""() => { const h = document.querySelector('.dry-run h2');
                const r = document.createRange(); r.selectNodeContents(h);
                const b = h.getBoundingClientRect(), t = r.getBoundingClientRect();
                return [[b.left, b.right], [t.left, t.right]]; }""")
            assert abs(text[1] - box[1]) < 2 and text[0] > box[0] + 20, (box, text)
            expect(page.locator("body")).to_contain_text("ما يجب تصحيحه أولا")
            assert page.locator("#errors tr.finding").evaluate_all("rows => rows.map(r => +r.dataset.row)") == wrong
            page.screenshot(path=str(screenshots / "portal-dry-run-ar.png"), full_page=True)

            # Submit (2 rows will be refused: the confirmation is required), then run the pipeline.
            page.check("input[name=confirm]")
            page.click("#submit-button")
            page.wait_for_url("**outcome=submitted")
            expect(page.locator("#stage")).to_have_class("status status-received")
            landed = [p for p in current.landing.rglob("*") if p.is_file()]
            assert [p.relative_to(current.landing).as_posix() for p in landed] == [
                "MA-TAO/2013/situation_agr_taounate_2013.xlsx"]
            configure_airflow(current, warehouse_url)
            run_pipeline()  # the real DAGs: ingest, publish, quality
            # The page was waiting: it notices by itself (polling) and shows "loaded in part".
            expect(page.locator("#stage")).to_have_class("status status-partial", timeout=30_000)
            expect(page.locator("#follow")).to_contain_text("محمل جزئيا")
            page.screenshot(path=str(screenshots / "portal-loaded-in-part-ar.png"), full_page=True)

            # The national coordination sees Taounate on the completeness board.
            page.click("header .logout button")
            page.fill("input[name=email]", national)
            page.fill("input[name=password]", national_password)
            page.click("button.primary")
            expect(page.locator("html")).to_have_attribute("dir", "rtl")  # the language was remembered
            page.click("#switch-fr")
            page.goto(f"{portal.url}/board?period=2013")
            expect(page.locator("html")).to_have_attribute("dir", "ltr")
            taounate = page.locator('tr[data-province="MA-TAO"]')
            expect(taounate).to_contain_text("22")
            expect(taounate.locator(".status-partial")).to_have_count(1)
            expect(page.locator('tr[data-province="MA-BER"]')).to_contain_text("—")
            taounate.evaluate("row => row.scrollIntoView({block: 'center'})")
            page.screenshot(path=str(screenshots / "portal-board.png"), full_page=False)

            # A damaged file and a copy of the same bytes, dropped in the landing folder: the
            # drill-down (province, then submission) gives their reasons in Arabic, the number of
            # the earlier submission in its place in the sentence.
            folder = current.landing / "MA-TAO" / "2013"
            (folder / "abime.xlsx").write_bytes(path.read_bytes()[:2000])
            shutil.copyfile(landed[0], folder / "copie.xlsx")
            refused = ingest_file("MA-TAO/2013/abime.xlsx")
            duplicate = ingest_file("MA-TAO/2013/copie.xlsx")
            assert (refused["status"], duplicate["status"]) == ("refused", "duplicate")
            page.click("#switch-ar")
            page.goto(f"{portal.url}/provinces/MA-TAO")
            expect(page.locator("small.reason")).to_have_count(2)
            page.click(f'a[href="/submissions/{duplicate["submission_id"]}"]')
            expect(page.locator("#reason")).to_contain_text("سبق استلام هذا الملف")
            page.goto(f"{portal.url}/submissions/{refused['submission_id']}")
            reason = page.locator("#reason")
            expect(reason).to_contain_text("المصنف غير مكتمل أو تالف")
            assert reason.evaluate("p => getComputedStyle(p).direction") == "rtl"
            page.screenshot(path=str(screenshots / "portal-refused-ar.png"), full_page=True)
        finally:
            browser.close()
