"""The `iga` command as people call it."""
import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from etl.cli import main
from etl.sample import generate

pytestmark = pytest.mark.integration


@pytest.mark.unit
def test_check_tells_the_clerk_what_to_fix_and_loads_nothing(tmp_path, iga_home, capsys):
    expected = generate(tmp_path / "landing", provinces=["MA-TAO"], errors_per_file=3)
    path = expected.files[0]
    code = main(["check", str(path), "--province", "Taounate", "--period", "2013"])
    out = capsys.readouterr().out
    assert code == 1  # partial: some rows would be refused
    assert "PARTIAL" in out
    for row in expected.wrong_rows[str(path)]:
        assert f"row {row} " in out
    report = iga_home / "reports" / "check" / (path.stem + ".html")
    assert "تقرير الجودة" in report.read_text(encoding="utf-8")
    assert not (iga_home / "pgdata").exists()  # no warehouse was started


@pytest.mark.unit
def test_check_refuses_a_file_that_is_not_a_spreadsheet(tmp_path, iga_home, capsys):
    path = tmp_path / "photo.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert main(["check", str(path), "--province", "MA-TAO", "--period", "2013"]) == 2
    assert "n'est pas un tableur" in capsys.readouterr().out


@pytest.fixture
def state_parent():
    """A folder outside pytest's 0700 tmp tree: as root, the embedded server runs as pgserver's own
    account and must reach its data folder (other pytest runs on the machine reset that tree's mode)."""
    import shutil
    import tempfile
    from pathlib import Path

    parent = Path(tempfile.mkdtemp(prefix="iga-cli-"))
    parent.chmod(0o755)
    yield parent
    shutil.rmtree(parent, ignore_errors=True)


def test_embedded_warehouse_starts_in_the_state_folder_and_stops(state_parent):
    tmp_path = state_parent
    env = {**os.environ, "IGA_HOME": str(tmp_path / "state")}
    env.pop("IGA_WAREHOUSE_URL", None)

    def iga(*args):
        return subprocess.run([sys.executable, "-m", "etl.cli", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    try:
        migrated = iga("db", "migrate")
        assert migrated.returncode == 0, migrated.stderr
        assert "001_warehouse" in migrated.stdout
        url = iga("db", "url").stdout.strip()
        assert url.startswith("postgresql://") and str(tmp_path / "state" / "pgdata") in url
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM ref.province")).scalar() == 75
        engine.dispose()
        assert "up to date" in iga("db", "migrate").stdout
        assert_the_analyst_login_is_a_boundary(iga, url, tmp_path / "state")
    finally:
        stopped = iga("db", "stop")
    assert "stopped" in stopped.stdout


def assert_the_analyst_login_is_a_boundary(iga, owner_url, state):
    """The embedded server asks every role but the owner's socket login for its password, so the
    read-only login is a real boundary: it reads, writes nothing, and nobody logs in without it."""
    import psycopg2
    from sqlalchemy.engine import make_url

    analyst = iga("db", "url", "--analyst").stdout.strip()
    passfile = state / "analyst.pgpass"
    assert make_url(analyst).password is None and make_url(analyst).query["passfile"] == str(passfile)
    assert passfile.stat().st_mode & 0o777 == 0o600
    assert iga("db", "url", "--analyst").stdout.strip() == analyst  # stable: same login, same file
    with psycopg2.connect(analyst) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ref.province")
        assert cursor.fetchone() == (75,)
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute("DELETE FROM ref.province")
    wrong = passfile.with_name("wrong.pgpass")
    wrong.write_text("*:*:*:iga_reader:not-the-password\n")
    wrong.chmod(0o600)
    with psycopg2.connect(owner_url) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE ROLE mallory LOGIN")  # a login with no password at all
    attempts = {
        "no password": make_url(analyst).difference_update_query(["passfile"]),
        "wrong password": make_url(analyst).update_query_dict({"passfile": str(wrong)}),
        "a login without password": make_url(owner_url).set(username="mallory"),
    }
    for what, url in attempts.items():
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(url.render_as_string(hide_password=False))
            pytest.fail(f"{what}: logged in")
