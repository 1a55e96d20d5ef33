"""The provinces' portal over HTTP (FastAPI's TestClient) against a real, migrated warehouse."""
from __future__ import annotations

import re

import pytest
from portal_support import clerk_file, csrf_of, make_portal
from sqlalchemy import text

pytestmark = pytest.mark.portal


@pytest.fixture
def portal(warehouse_url, iga_home):
    return make_portal(warehouse_url)


def audit_actions(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT action, email IS NOT NULL OR user_id IS NOT NULL, address FROM portal.audit ORDER BY audit_id"))]


def test_login_sets_a_signed_httponly_samesite_cookie_and_every_page_has_a_csp(portal):
    password = portal.account("Clerk@Tao.ma", "MA-TAO")
    client = portal.client()
    page = client.get("/login")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain HTTP here
    # A forged cookie is no session: the page sends the browser to the login form.
    forged = portal.client()
    forged.cookies.set("iga_session", "eyJ1aWQiOjF9.forged.signature")
    assert forged.get("/home").status_code == 303
    portal.login("clerk@tao.ma", password, client)
    home = client.get("/home")
    assert home.status_code == 200 and "Taounate" in home.text
    assert "content-security-policy" in home.headers and home.headers["cache-control"] == "no-store"
    # Logging out ends the session everywhere: a copy of the cookie no longer opens anything.
    copied = portal.client()
    copied.cookies.set("iga_session", client.cookies["iga_session"])
    assert copied.get("/home").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_of(home.text)}).status_code == 303
    assert copied.get("/home").status_code == 303


def test_the_cookie_is_secure_when_served_over_https(portal):
    client = portal.client()
    client.base_url = "https://testserver"
    assert "Secure" in client.get("https://testserver/login").headers["set-cookie"]


def test_forms_without_the_csrf_token_are_refused(portal, tmp_path):
    password = portal.account("clerk@tao.ma", "MA-TAO")
    client = portal.client()
    client.get("/login")
    refused = client.post("/login", data={"email": "clerk@tao.ma", "password": password, "csrf_token": "guess"})
    assert refused.status_code == 403
    portal.login("clerk@tao.ma", password, client)
    path, _ = clerk_file(tmp_path)
    with open(path, "rb") as f:
        upload = client.post("/uploads", data={"csrf_token": "wrong", "period": "2013"}, files={"file": f})
    assert upload.status_code == 403
    assert not any(portal.settings.portal_state.glob("uploads/*"))  # nothing kept
    assert client.post("/language", data={"lang": "ar"}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403


def test_wrong_passwords_are_throttled_and_never_say_which_part_was_wrong(portal):
    password = portal.account("clerk@tao.ma", "MA-TAO")
    client = portal.client()
    token = csrf_of(client.get("/login").text)
    unknown = client.post("/login", data={"email": "nobody@tao.ma", "password": "x" * 12, "csrf_token": token})
    wrong = client.post("/login", data={"email": "clerk@tao.ma", "password": "x" * 12, "csrf_token": token})
    assert unknown.status_code == wrong.status_code == 401
    assert "incorrect" in wrong.text and "incorrect" in unknown.text
    for _ in range(4):
        client.post("/login", data={"email": "clerk@tao.ma", "password": "y" * 12, "csrf_token": token})
    throttled = client.post("/login", data={"email": "clerk@tao.ma", "password": password, "csrf_token": token})
    assert throttled.status_code == 429  # even the right password waits
    with portal.engine.connect() as conn:
        logged = " ".join(str(v) for row in conn.execute(text("SELECT * FROM portal.audit")) for v in row)
        hashes = conn.execute(text("SELECT password_hash FROM portal.user_account")).scalars().all()
    assert password not in logged and "x" * 12 not in logged
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_a_clerk_sees_only_their_province(portal, tmp_path):
    from etl.ingest import ingest_file, list_new_files
    from etl.sample import generate

    generate(portal.settings.landing, provinces=["MA-BER", "MA-TAO"], rows=(6, 8))
    for path in list_new_files():
        ingest_file(path)
    with portal.engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT province_code, submission_id FROM core.submission")).all())
        berkane_project = conn.execute(text("SELECT project_code FROM core.project WHERE province_code = 'MA-BER' "
                                            "LIMIT 1")).scalar_one()
    tao = portal.login("clerk@tao.ma", portal.account("clerk@tao.ma", "MA-TAO"))
    ber = portal.login("clerk@ber.ma", portal.account("clerk@ber.ma", "MA-BER"))
    berkane_upload = ber.get(portal.upload(ber, clerk_file(tmp_path, province="MA-BER")[0]).headers["location"])
    upload_url = berkane_upload.url.path
    for url in ("/provinces/MA-BER", f"/provinces/MA-BER/projects/{berkane_project}",
                f"/submissions/{ids['MA-BER']}", f"/submissions/{ids['MA-BER']}/report.html",
                f"/submissions/{ids['MA-BER']}/report.xlsx", upload_url, f"{upload_url}/report.html",
                f"{upload_url}/status.json", "/uploads/00000000-0000-0000-0000-000000000000",
                "/submissions/999999", "/board", "/figures", "/published/rapport_national.html"):
        answer = tao.get(url)
        assert answer.status_code == 403, url
        main = answer.text.split("<main>", 1)[1]  # (the header's language form echoes the address asked)
        assert "MA-BER" not in main and "Berkane" not in main and "BER-" not in main, url  # not a hint
    assert tao.post(f"{upload_url}/submit", data={"csrf_token": csrf_of(tao.get("/home").text),
                                                  "confirm": "yes"}).status_code == 403
    assert tao.get("/provinces/MA-TAO").status_code == 200
    assert tao.get(f"/submissions/{ids['MA-TAO']}").status_code == 200
    national = portal.login("coord@indh.ma", portal.account("coord@indh.ma", None))
    assert national.get(f"/submissions/{ids['MA-BER']}").status_code == 200
    assert national.get(f"/provinces/MA-BER/projects/{berkane_project}").status_code == 200
    assert national.get(upload_url).status_code == 200


def multipart_chunks(boundary: str, token: str, chunks: int, sent: list):
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
           f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.xlsx\"\r\n"
           f"Content-Type: application/octet-stream\r\n\r\n").encode()
    for _ in range(chunks):
        sent.append(1)
        yield b"\0" * 65536
    yield f"\r\n--{boundary}--\r\n".encode()


def test_the_size_limit_stops_an_upload_while_it_streams(portal, monkeypatch, tmp_path):
    import asyncio

    from portal.upload_stream import TooLarge, receive_upload

    monkeypatch.setenv("IGA_MAX_FILE_MB", "1")
    client = portal.login("clerk@tao.ma", portal.account("clerk@tao.ma", "MA-TAO"))
    token = csrf_of(client.get("/home").text)
    boundary = "iga-test-boundary"
    sent: list = []
    answer = client.post("/uploads", content=b"".join(multipart_chunks(boundary, token, 40, sent)),
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert answer.status_code == 413 and "taille maximale" in answer.text
    assert not list((portal.settings.portal_state / "uploads").glob("*"))  # nothing left behind
    # A declared length over the limit is refused before a byte of the body is read.
    declared = client.post("/uploads", content=b"x" * 10, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(50 * 1024 * 1024)})
    assert declared.status_code == 413

    class Streaming:  # a 20 MB body with no Content-Length, as a browser may stream it
        headers = {"content-type": f"multipart/form-data; boundary={boundary}"}

        async def stream(self):
            for chunk in multipart_chunks(boundary, token, 320, streamed):
                yield chunk

    streamed: list = []
    written = tmp_path / "received.xlsx"
    with pytest.raises(TooLarge):
        asyncio.run(receive_upload(Streaming(), token, 1024 * 1024, lambda name: written))
    assert len(streamed) <= 17, f"{len(streamed)} chunks of 64 KiB read for a 1 MiB limit"
    assert written.stat().st_size <= 1024 * 1024


def test_upload_dry_run_submit_lands_under_a_safe_name_then_follows_the_pipeline(portal, tmp_path):
    from etl.examine import examine
    from etl.ingest import ingest_file, list_new_files
    from etl.quality_checks import warehouse_checks
    from etl.reports import finding_dicts

    client = portal.login("clerk@tao.ma", portal.account("clerk@tao.ma", "MA-TAO"))
    path, wrong = clerk_file(tmp_path, rows=20, errors=2)
    hostile = "..\\..\\../etc/.~$situation agr «2013».xlsx"
    uploaded = portal.upload(client, path, file_name=hostile)
    assert uploaded.status_code == 303
    page_url = uploaded.headers["location"]
    page = client.get(page_url).text
    # The dry run: counts, then both wrong rows at their Excel rows, with the French message.
    assert re.search(r"<td>20</td><td>18</td><td>2</td>", page)
    shown_rows = [int(r) for r in re.findall(r'class="finding" data-rule="E_[A-Z_]+" data-row="(\d+)"', page)]
    assert shown_rows == wrong
    # ... exactly what `iga check` finds on the same file with the same warehouse (read-only).
    exam = examine(path, "MA-TAO", "2013")
    warehouse_checks(exam, portal.engine)
    upload_id = page_url.rsplit("/", 1)[1]
    kept = (portal.settings.portal_state / "uploads" / upload_id / "findings.json").read_text(encoding="utf-8")
    import json

    assert json.loads(kept) == finding_dicts(exam.findings)
    assert client.get(f"{page_url}/report.xlsx").status_code == 200
    report = client.get(f"{page_url}/report.html")
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    # Refused rows need the explicit confirmation; without it nothing is written.
    unconfirmed = portal.submit(client, page_url, confirm=False)
    assert unconfirmed.headers["location"].endswith("outcome=confirm")
    assert not portal.settings.landing.exists() or not any(portal.settings.landing.rglob("*.xlsx"))
    confirmed = portal.submit(client, page_url)
    assert confirmed.headers["location"].endswith("outcome=submitted")
    landed = sorted(p for p in portal.settings.landing.rglob("*") if p.is_file())
    assert [p.relative_to(portal.settings.landing).as_posix() for p in landed] == [
        "MA-TAO/2013/situation_agr_2013.xlsx"]
    assert landed[0].read_bytes() == path.read_bytes()
    assert "Reçu" in client.get(page_url).text
    assert client.get(f"{page_url}/status.json").json() == {"stage": "received", "submission_id": None}
    # The pipeline picks it up; the page then says "loaded in part" with the counts.
    assert list_new_files() == ["MA-TAO/2013/situation_agr_2013.xlsx"]
    ingest_file("MA-TAO/2013/situation_agr_2013.xlsx")
    assert client.get(f"{page_url}/status.json").json()["stage"] == "partial"
    followed = client.get(page_url).text
    assert "Chargé en partie" in followed and "<td>18</td><td>2</td>" in followed
    # The same bytes again (another name, another upload): said so, nothing written.
    again = portal.upload(client, path, file_name="copie.xlsx").headers["location"]
    assert 'id="already-delivered"' in client.get(again).text  # said before sending, too
    duplicate = portal.submit(client, again)
    assert duplicate.headers["location"].endswith("outcome=duplicate")
    assert "identique" in client.get(duplicate.headers["location"]).text
    assert sorted(p for p in portal.settings.landing.rglob("*") if p.is_file()) == landed
    # Submitting the same upload twice does nothing more either.
    assert portal.submit(client, page_url).headers["location"].endswith("outcome=already")
    actions = [a for a, _, _ in audit_actions(portal.engine)]
    for action in ("login", "upload", "check", "download", "submit", "trigger_ingest", "submit_duplicate"):
        assert action in actions, action
    assert {address for _, _, address in audit_actions(portal.engine) if address} == {"testclient"}


def test_a_file_refused_whole_cannot_be_submitted(portal, tmp_path):
    client = portal.login("clerk@tao.ma", portal.account("clerk@tao.ma", "MA-TAO"))
    page_url = portal.upload(client, _write(tmp_path / "export.xls", b"<html><body>Export</body></html>")).headers[
        "location"]
    page = client.get(page_url).text
    assert "refusé en entier" in page and "submit-button" not in page
    assert "le fichier et ses colonnes" in page
    assert portal.submit(client, page_url).headers["location"].endswith("outcome=refused")
    assert not portal.settings.landing.exists() or not any(portal.settings.landing.rglob("*.xls"))


def _write(path, content: bytes):
    path.write_bytes(content)
    return path


REASON = re.compile(r'id="(?:check-)?reason">([^<]+)</p>')
SMALL_REASON = re.compile(r'<small class="reason">([^<]+)</small>')


def reason_on(client, url: str) -> str:
    found = REASON.findall(client.get(url).text)
    assert len(found) == 1, url
    return found[0]


def switch_language(client, lang: str) -> None:
    home = client.get("/home").text
    assert client.post("/language", data={"lang": lang, "next": "/home", "csrf_token": csrf_of(home)}).status_code == 303


def test_refusal_reasons_are_in_the_pages_language(portal, tmp_path):
    """A refused dry run, a damaged file and a duplicate: the reason in Arabic on the Arabic pages
    (figures in their reading order), in French on the French ones, and a row recorded before the
    Arabic reasons existed shows its French reason rather than nothing."""
    from etl.ingest import ingest_file

    client = portal.login("clerk@tao.ma", portal.account("clerk@tao.ma", "MA-TAO"))
    switch_language(client, "ar")
    web_page = portal.upload(client, _write(tmp_path / "export.xls", b"<html><body>Export</body></html>"))
    web_page = web_page.headers["location"]
    path, _ = clerk_file(tmp_path)
    loaded = portal.upload(client, path).headers["location"]
    portal.submit(client, loaded)
    first = ingest_file("MA-TAO/2013/situation_agr.xlsx")
    folder = portal.settings.landing / "MA-TAO" / "2013"
    (folder / "copie.xlsx").write_bytes(path.read_bytes())
    (folder / "abime.xlsx").write_bytes(path.read_bytes()[:2000])
    duplicate = ingest_file("MA-TAO/2013/copie.xlsx")
    damaged = ingest_file("MA-TAO/2013/abime.xlsx")
    assert (duplicate["status"], damaged["status"]) == ("duplicate", "refused")
    pages = {"dry run": web_page, "duplicate": f"/submissions/{duplicate['submission_id']}",
             "damaged": f"/submissions/{damaged['submission_id']}"}

    arabic = {name: reason_on(client, url) for name, url in pages.items()}
    assert "صفحة ويب" in arabic["dry run"]
    assert f"(الإيداع رقم {first['submission_id']})" in arabic["duplicate"]
    assert "المصنف غير مكتمل أو تالف" in arabic["damaged"]
    listed = SMALL_REASON.findall(client.get("/home").text)  # the province's deliveries
    assert sorted(listed) == sorted([arabic["duplicate"], arabic["damaged"]])

    switch_language(client, "fr")
    french = {name: reason_on(client, url) for name, url in pages.items()}
    assert "une page web" in french["dry run"]
    assert f"(dépôt n° {first['submission_id']})" in french["duplicate"]
    assert "incomplet ou endommagé" in french["damaged"]
    assert sorted(SMALL_REASON.findall(client.get("/home").text)) == sorted([french["duplicate"], french["damaged"]])

    # Rows from before the migration (no reason_ar): the Arabic page shows the French reason.
    with portal.engine.begin() as conn:
        conn.execute(text("UPDATE core.submission SET reason_ar = NULL"))
        conn.execute(text("UPDATE portal.upload SET reason_ar = NULL"))
    switch_language(client, "ar")
    assert {name: reason_on(client, url) for name, url in pages.items()} == french


def test_warnings_are_summarised_by_rule_under_a_heading_in_the_pages_language(portal, tmp_path):
    from openpyxl import load_workbook

    path, _ = clerk_file(tmp_path, errors=0)
    book = load_workbook(path)
    for row in (5, 6):  # partners' share off: INDH + promoter + partners no longer make the cost
        book.active.cell(row, 14).value = 5000
    book.save(path)
    client = portal.login("clerk@tao.ma", portal.account("clerk@tao.ma", "MA-TAO"))
    page_url = portal.upload(client, path).headers["location"]
    french = client.get(page_url).text
    assert re.search(r"<b>2</b> × INDH \+ porteur \+ partenaires ne donnent pas le coût global", french)
    assert "… DH" not in french and "…" not in "".join(re.findall(r"<summary>(.*?)</summary>", french, re.S))
    switch_language(client, "ar")
    assert "<b>2</b> × مجموع المساهمات لا يساوي الكلفة الإجمالية" in client.get(page_url).text


def test_arabic_pages_read_right_to_left_and_the_choice_is_remembered(portal, tmp_path):
    password = portal.account("clerk@tao.ma", "MA-TAO")
    client = portal.login("clerk@tao.ma", password)
    home = client.get("/home")
    assert '<html lang="fr" dir="ltr">' in home.text
    switched = client.post("/language", data={"lang": "ar", "next": "/home", "csrf_token": csrf_of(home.text)})
    assert switched.status_code == 303 and switched.headers["location"] == "/home"
    arabic = client.get("/home").text
    assert '<html lang="ar" dir="rtl">' in arabic and "تاونات" in arabic
    # Remembered for the account: a new browser shows Arabic once logged in.
    fresh = portal.login("clerk@tao.ma", password)
    assert '<html lang="ar" dir="rtl">' in fresh.get("/home").text
    page = fresh.get(portal.upload(fresh, clerk_file(tmp_path)[0]).headers["location"]).text
    assert "مساهمة" in page or "المبلغ" in page  # the findings' messages in Arabic
    # A redirect target never leaves the site.
    away = fresh.post("/language", data={"lang": "fr", "next": "//evil.example/x", "csrf_token": csrf_of(page)})
    assert away.headers["location"] == "/"


def test_no_stack_trace_reaches_a_page(portal, closed_port, caplog):
    client = portal.login("coord@indh.ma", portal.account("coord@indh.ma", None))
    for url in ("/submissions/99999999999999999999999", "/provinces/MA-XXX", "/nowhere", "/submissions/abc",
                "/uploads/not-a-uuid", "/board?period=<script>"):
        answer = client.get(url)
        assert answer.status_code in (200, 400, 403, 404, 422, 500), url  # the board falls back on the current period
        assert "Traceback" not in answer.text and "psycopg2" not in answer.text and "File \"" not in answer.text
        assert "<script>" not in answer.text
        assert "content-security-policy" in answer.headers
    # The warehouse down: the clerk gets an incident reference, the log gets the trace.
    from sqlalchemy import create_engine

    from portal.app import create_app

    down = create_app(portal.settings, create_engine(f"postgresql+psycopg2://nobody:secret@127.0.0.1:{closed_port}/iga"))
    from fastapi.testclient import TestClient

    broken = TestClient(down, raise_server_exceptions=False, follow_redirects=False)
    token = csrf_of(broken.get("/login").text)
    crashed = broken.post("/login", data={"email": "a@b.ma", "password": "x" * 12, "csrf_token": token})
    assert crashed.status_code == 500 and "Référence de l&#39;incident" in crashed.text
    assert "Traceback" not in crashed.text and "secret" not in crashed.text and "OperationalError" not in crashed.text
    assert "content-security-policy" in crashed.headers
    incident = re.search(r"incident : (\w+)", crashed.text).group(1)
    assert any(incident in record.getMessage() for record in caplog.records)


def test_accounts_from_the_command_line_link_disable_and_end_sessions(portal, capsys):
    from etl.cli import main

    assert main(["portal", "user", "add", "--email", "Saida@Tao.ma", "--province", "MA-TAO"]) == 0
    link = re.search(r"(http://\S+/password/(\S+))", capsys.readouterr().out)
    assert link and link.group(1).startswith("http://127.0.0.1:8090/password/")
    client = portal.client()
    form = client.get(f"/password/{link.group(2)}")
    assert form.status_code == 200 and "saida@tao.ma" in form.text
    short = client.post(f"/password/{link.group(2)}", data={"password": "court", "confirm": "court",
                                                             "csrf_token": csrf_of(form.text)})
    assert short.status_code == 400
    chosen = client.post(f"/password/{link.group(2)}", data={
        "password": "un mot de passe long", "confirm": "un mot de passe long", "csrf_token": csrf_of(form.text)})
    assert chosen.status_code == 303 and client.get("/home").status_code == 200
    assert client.get(f"/password/{link.group(2)}").status_code == 404  # one time only
    assert main(["portal", "user", "add", "--email", "saida@tao.ma", "--province", "MA-TAO"]) == 1  # exists
    assert main(["portal", "user", "add", "--email", "x@y.ma", "--province", "Atlantis"]) == 1
    assert main(["portal", "user", "disable", "--email", "saida@tao.ma"]) == 0
    assert client.get("/home").status_code == 303  # the open session ended
    again = portal.client()
    token = csrf_of(again.get("/login").text)
    assert again.post("/login", data={"email": "saida@tao.ma", "password": "un mot de passe long",
                                      "csrf_token": token}).status_code == 401
    assert main(["portal", "user", "list"]) == 0
    assert "disabled" in capsys.readouterr().out


def test_the_national_board_has_the_figures_of_reporting_completeness(portal):
    from etl.ingest import ingest_file, list_new_files
    from etl.publish import refresh_marts, write_exports
    from etl.sample import generate

    generate(portal.settings.landing, provinces=["MA-TAO", "MA-BER"], rows=(6, 8), period="2014")
    for path in list_new_files():
        ingest_file(path)
    refresh_marts()
    write_exports()
    client = portal.login("coord@indh.ma", portal.account("coord@indh.ma", None))
    board = client.get("/board?period=2014")
    assert board.status_code == 200
    with portal.engine.connect() as conn:
        marts = {r.province_code: r for r in conn.execute(text(
            "SELECT * FROM mart.reporting_completeness WHERE period = '2014'"))}
    assert set(marts) == {"MA-TAO", "MA-BER"}
    for code, mart in marts.items():
        row = re.search(rf'<tr data-province="{code}">(.*?)</tr>', board.text, re.S).group(1)
        cells = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert cells[:3] == [str(mart.submissions), str(mart.rows_loaded), str(mart.rows_rejected)], code
        assert "Remis en retard" in row  # 2014 was due by 2015-01-31
    assert board.text.count('<tr data-province="') == 75
    province = client.get("/provinces/MA-TAO")
    assert province.status_code == 200 and '<tr data-province' not in province.text
    # A project's versions say which file, sheet and row each figure came from.
    with portal.engine.connect() as conn:
        project = conn.execute(text(
            "SELECT p.project_code, p.source_sheet, p.source_row, s.file_name, s.submission_id FROM core.project p "
            "JOIN core.submission s USING (submission_id) WHERE p.province_code = 'MA-TAO' LIMIT 1")).one()
    assert f"/provinces/MA-TAO/projects/{project.project_code}" in province.text
    versions = client.get(f"/provinces/MA-TAO/projects/{project.project_code}").text
    row = re.search(r'<tr class="current">(.*?)</tr>', versions, re.S).group(1)
    assert project.file_name in row and project.source_sheet in row
    assert f'<td class="num">{project.source_row}</td>' in row
    findings = client.get(f"/submissions/{project.submission_id}").text
    assert findings.count('class="finding severity-error"') == 2  # the sample's two wrong rows
    figures = client.get("/figures")
    assert "rapport_national.html" in figures.text
    assert client.get("/published/rapport_national.html").status_code == 200
    assert client.get("/published/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_health_answers_for_compose(portal):
    assert portal.client().get("/healthz").json() == {"status": "ok"}


def test_an_upload_left_unsubmitted_for_a_week_must_be_uploaded_again(portal, tmp_path):
    import datetime as dt
    import os

    from etl.uploads import prune_uploads

    client = portal.login("clerk@tao.ma", portal.account("clerk@tao.ma", "MA-TAO"))
    page_url = portal.upload(client, clerk_file(tmp_path, errors=0)[0]).headers["location"]
    folder = portal.settings.portal_state / "uploads" / page_url.rsplit("/", 1)[1]
    staged = next((folder / "original").iterdir())
    assert prune_uploads(portal.settings) == 0
    week_ago = (dt.datetime.now() - dt.timedelta(days=8)).timestamp()
    os.utime(staged, (week_ago, week_ago))
    assert prune_uploads(portal.settings) == 1 and not staged.exists()
    assert (folder / "findings.json").exists()  # the check and its reports stay readable
    assert client.get(page_url).status_code == 200
    assert portal.submit(client, page_url).headers["location"].endswith("outcome=expired")
    assert not portal.settings.landing.exists() or not any(portal.settings.landing.rglob("*.xlsx"))


def test_a_file_that_exhausts_its_reader_is_refused_and_the_portal_goes_on(portal, tmp_path, monkeypatch):
    client = portal.login("clerk@tao.ma", portal.account("clerk@tao.ma", "MA-TAO"))
    path, _ = clerk_file(tmp_path, rows=200)
    # Read in one 40 MB piece: a fresh mapping that a 1 MB cap refuses, whatever the parent freed.
    big = tmp_path / "gros.csv"
    big.write_bytes(b"Code projet;Intitul\xc3\xa9;Co\xc3\xbbt global;Contribution INDH\r\n" + b"x" * 40_000_000)
    monkeypatch.setenv("IGA_WORKER_MEMORY_MB", "1")  # the child examining the upload cannot grow
    starved = client.get(portal.upload(client, big).headers["location"]).text
    assert "refusé en entier" in starved and "submit-button" not in starved
    assert 'data-rule="FILE_UNREADABLE"' in starved
    monkeypatch.setenv("IGA_WORKER_MEMORY_MB", "1536")
    fine = client.get(portal.upload(client, path, file_name="encore.xlsx").headers["location"]).text
    assert "submit-button" in fine and "FILE_UNREADABLE" not in fine
