"""Secure by default: no password in what is printed, no identifier pasted from a reference file."""
from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from etl.cli import main
from etl.migrate import ReferenceColumnsMismatch, _upsert
from etl.warehouse import display_url

PASSWORDS = st.text(alphabet=string.ascii_letters + string.digits + "-_.~!$&'()*+,;=:@/?#[]% ", min_size=6,
                    max_size=40).filter(lambda p: p.strip() == p and "***" not in p)


@pytest.mark.unit
@settings(max_examples=200, deadline=None)
@given(password=PASSWORDS, user=st.sampled_from(["iga", "airflow", "ana.lyst"]),
       host=st.sampled_from(["postgres", "db.indh.ma", "127.0.0.1"]), driver=st.sampled_from(
           ["postgresql", "postgresql+psycopg2"]))
def test_a_printed_url_never_shows_its_password(password, user, host, driver):
    url = URL.create(driver, username=user, password=password, host=host, port=5432,
                     database="iga").render_as_string(hide_password=False)
    shown = display_url(url)
    assert password not in shown.replace(f"{user}:***@{host}", "")
    assert shown.startswith(f"postgresql://{user}:***@{host}:5432/iga")


@pytest.mark.integration
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=PASSWORDS)
def test_iga_db_url_prints_a_configured_warehouse_without_its_password(password, warehouse_url, monkeypatch,
                                                                         capsys):
    from sqlalchemy.engine import make_url

    # The test server trusts its socket, so the password is not checked, only carried.
    monkeypatch.setenv("IGA_WAREHOUSE_URL", make_url(warehouse_url).set(password=password)
                       .render_as_string(hide_password=False))
    capsys.readouterr()
    assert main(["db", "url"]) == 0
    out = capsys.readouterr().out
    assert ":***@" in out and password not in out.replace(":***@", "")


HOSTILE_HEADERS = [
    "region_code) VALUES ('x'); DROP TABLE ref.region; --",
    'name_fr" = 1; DROP TABLE ref.region; --',
    "name_fr, region_code",
    "nom_fr",  # a misspelt header: refused too, not silently ignored
    "",
]


@pytest.mark.integration
@pytest.mark.parametrize("header", HOSTILE_HEADERS)
def test_a_reference_file_with_a_column_its_table_lacks_is_refused_before_any_sql(header, warehouse_url):
    engine = create_engine(warehouse_url)
    rows = [{"region_code": "MA-99", "name_ar": "س", header: "Nulle part"}]
    with engine.begin() as conn:
        before = conn.execute(text("SELECT count(*) FROM ref.region")).scalar_one()
        with pytest.raises(ReferenceColumnsMismatch, match="ref.region"):
            _upsert(conn, "ref.region", "region_code", rows)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ref.region")).scalar_one() == before


@pytest.mark.integration
def test_reference_rows_with_quotes_and_reserved_words_in_values_sync_exactly(warehouse_url):
    engine = create_engine(warehouse_url)
    rows = [{"region_code": "MA-99", "name_fr": "L'Ouest\"; DROP TABLE ref.region; --", "name_ar": "%(x)s :p"}]
    with engine.begin() as conn:
        _upsert(conn, "ref.region", "region_code", rows)
        _upsert(conn, "ref.region", "region_code", rows)  # twice: an update, the same values
    with engine.connect() as conn:
        got = conn.execute(text("SELECT name_fr, name_ar FROM ref.region WHERE region_code = 'MA-99'")).one()
    assert tuple(got) == (rows[0]["name_fr"], rows[0]["name_ar"])


@pytest.mark.integration
def test_only_the_warehouse_roles_may_connect_to_its_database(warehouse_url):
    import uuid

    import psycopg2
    import psycopg2.sql
    from sqlalchemy.engine import make_url

    from etl.migrate import migrate

    migrate(create_engine(warehouse_url))  # a cloned database starts with the default CONNECT for PUBLIC
    tag = uuid.uuid4().hex[:8]
    outsider, analyst = f"outsider_{tag}", f"alice_{tag}"
    admin = create_engine(warehouse_url, isolation_level="AUTOCOMMIT")

    def run(statement, *names):  # role names are quoted identifiers, never pasted into the SQL
        with admin.connect() as conn:
            conn.connection.driver_connection.cursor().execute(
                psycopg2.sql.SQL(statement).format(*map(psycopg2.sql.Identifier, names)))

    run("CREATE ROLE {} LOGIN; CREATE ROLE {} LOGIN IN ROLE iga_analyst", outsider, analyst)
    try:
        def connect(user):
            return psycopg2.connect(make_url(warehouse_url).set(username=user, drivername="postgresql")
                                    .render_as_string(hide_password=False))

        connect(analyst).close()
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            connect(outsider).close()
    finally:
        run("DROP ROLE {}; DROP ROLE {}", outsider, analyst)
