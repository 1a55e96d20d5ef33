"""The portal's pure parts and its place in the code: safe names, the landing folder, imports."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from import_probe import heavy_imports

from etl.uploads import landing_folder, safe_file_name, what_to_fix_first

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.unit
@hypothesis_settings(max_examples=400, deadline=None)
@given(st.text(min_size=0, max_size=400))
def test_any_file_name_becomes_one_safe_component(name):
    safe = safe_file_name(name)
    assert safe and safe == safe.strip()
    assert "/" not in safe and "\\" not in safe and "\0" not in safe
    assert not safe.startswith((".", "~$", "-")) and not safe.endswith(".part")
    assert safe not in (".", "..")
    assert len(safe.encode("utf-8")) <= 200
    assert all(c.isalnum() or c in "-_." for c in safe), safe
    assert safe_file_name(safe) == safe  # stable: a second pass changes nothing


@pytest.mark.unit
@pytest.mark.parametrize("name, expected", [
    ("situation AGR 2013.xlsx", "situation_AGR_2013.xlsx"),
    ("C:\\Users\\das\\Bureau\\projets.XLS", "projets.xls"),
    ("../../etc/passwd", "passwd"),
    ("..", "fichier"),
    (".bashrc", "fichier.bashrc"),
    ("~$projets.xlsx", "projets.xlsx"),
    ("مشاريع تاونات.xlsx", "مشاريع_تاونات.xlsx"),
    ("x.part", "x.part_"),
    ("rapport.<script>", "rapport.script"),
])
def test_examples_of_clerks_file_names(name, expected):
    assert safe_file_name(name) == expected


@pytest.mark.unit
def test_the_landing_folder_never_leads_out(tmp_path, monkeypatch):
    from etl.config import settings

    monkeypatch.setenv("IGA_LANDING", str(tmp_path / "landing"))
    current = settings()
    assert landing_folder(current, "MA-TAO", "2013") == (tmp_path / "landing" / "MA-TAO" / "2013").resolve()
    for province, period in (("../MA-TAO", "2013"), ("MA-TAO", "../2013"), ("MA-TAO", "2013/../../x"),
                             ("", "2013"), ("MA-TAO", "hier")):
        with pytest.raises(ValueError):
            landing_folder(current, province, period)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "MA-BER").symlink_to(outside, target_is_directory=True)
    (outside / "2013").mkdir()
    with pytest.raises(ValueError):
        landing_folder(current, "MA-BER", "2013")


@pytest.mark.unit
def test_what_to_fix_first_orders_file_errors_warnings():
    def finding(rule, severity, row, sheet="AGR"):
        return {"rule_id": rule, "severity": severity, "excel_row": row, "sheet": sheet, "column_header": None,
                "value": None, "project_code": None, "message_fr": rule, "message_ar": rule}

    fix = what_to_fix_first([
        finding("W_PARTS_SUM_MISMATCH", "warning", 9), finding("E_CODE_MISSING", "error", 12),
        finding("COLUMN_UNMAPPED", "info", None), finding("E_AMOUNT_NEGATIVE", "error", 7),
        finding("W_PARTS_SUM_MISMATCH", "warning", 4), finding("FILE_PERIOD_FUTURE", "error", None),
        finding("W_DATE_INVALID", "warning", 5)])
    # The file's and its columns' problems first (a column not read, or read by resemblance, is one).
    assert [f["rule_id"] for f in fix["file"]] == ["FILE_PERIOD_FUTURE", "COLUMN_UNMAPPED"]
    assert [f["excel_row"] for f in fix["errors"]] == [7, 12]
    assert [(w["rule_id"], w["count"]) for w in fix["warnings"]] == [("W_PARTS_SUM_MISMATCH", 2),
                                                                     ("W_DATE_INVALID", 1)]
    assert fix["info"] == []


@pytest.mark.unit
def test_etl_never_imports_the_portal():
    for path in sorted((REPO / "etl").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "portal" or n.startswith("portal.") for n in names), path




@pytest.mark.portal
def test_the_portal_imports_nothing_heavy_and_connects_to_nothing(tmp_path):
    """The DAG files' probe: importing the portal and building its app opens no connection and
    leaves the examination's heavy libraries (and Airflow, and argon2) to the first request."""
    env = {"IGA_WAREHOUSE_URL": "postgresql://nobody@192.0.2.1:1/nowhere", "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path), "IGA_HOME": str(tmp_path / "home")}
    load = "from portal.app import create_app\ncreate_app()"
    assert heavy_imports("the portal", "import fastapi", load, env, ("airflow", "argon2"), cwd=REPO) == []


@pytest.mark.integration
def test_demo_accounts_are_made_once_and_their_logins_kept(warehouse_url, iga_home):
    from etl.accounts import authenticate, ensure_demo_accounts
    from etl.config import settings
    from etl.warehouse import engine

    folder = settings().portal_state
    first = ensure_demo_accounts(engine(warehouse_url), folder)
    assert [(email, province) for email, _, province in first] == [
        ("clerk.taounate@demo.indh.ma", "MA-TAO"), ("national@demo.indh.ma", None)]
    assert ensure_demo_accounts(engine(warehouse_url), folder) == first
    assert oct((folder / "demo-logins.txt").stat().st_mode & 0o777) == "0o600"
    for email, password, province in first:
        assert authenticate(engine(warehouse_url), email, password, "127.0.0.1").province_code == province


@pytest.mark.integration
def test_analysts_cannot_read_the_portals_accounts(warehouse_url):
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ProgrammingError

    from etl.warehouse import embedded_reader_url

    reader = create_engine(embedded_reader_url(warehouse_url))
    try:
        with reader.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM mart.national_summary")).scalar() is not None
        with reader.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("SELECT password_hash FROM portal.user_account"))
    finally:
        reader.dispose()
