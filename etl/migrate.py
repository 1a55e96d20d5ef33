"""Schema migrations and reference data: one command, the same in tests, the demo and production.

``sql/migrations/NNN_name.sql`` files are applied once each, in order, and recorded in
``meta.schema_migration``; then the reference tables are synced from ``reference/*.csv`` (the
files are the source of truth, so a corrected spelling reaches the warehouse on the next migrate).
"""
from __future__ import annotations

import logging

from sqlalchemy import Connection, text

from etl import reference
from etl.config import SQL_DIR
from etl.errors import IgaError

log = logging.getLogger(__name__)
MIGRATION_LOCK = 7_301_001  # pg_advisory_xact_lock key: one migrator at a time


def migrate(engine) -> list[str]:
    """Apply pending migrations and sync reference data; returns the migrations applied now."""
    applied_now: list[str] = []
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        conn.execute(text((SQL_DIR / "meta" / "schema_migration.sql").read_text()))
        done = set(conn.execute(text("SELECT version FROM meta.schema_migration")).scalars())
        for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
            if path.stem in done:
                continue
            log.info("applying migration %s", path.name)
            run_script(conn, path.read_text())
            conn.execute(text("INSERT INTO meta.schema_migration (version) VALUES (:v)"), {"v": path.stem})
            applied_now.append(path.stem)
        sync_reference(conn)
        sync_data_dictionary(conn)
        run_script(conn, (SQL_DIR / "meta" / "roles.sql").read_text())
    return applied_now


def run_script(conn: Connection, script: str) -> None:
    """Run a whole SQL file as written (no bind-parameter parsing of its % and : characters)."""
    with conn.connection.driver_connection.cursor() as cursor:
        cursor.execute(script)


class ReferenceColumnsMismatch(IgaError, ValueError):
    """A reference CSV names columns its table does not have: refused before any SQL is built."""


def table_columns(conn: Connection, table: str) -> list[str]:
    """The columns ``schema.table`` has, as the catalogue says (empty when there is no such table)."""
    schema, name = table.split(".")
    return list(conn.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = :s AND table_name = :t "
        "ORDER BY ordinal_position"), {"s": schema, "t": name}).scalars())


def _upsert(conn: Connection, table: str, key: str, rows: list[dict]) -> None:
    """Insert or update reference rows by ``key``.

    The column names come from a CSV header, so they are checked against the table's own columns
    (an unknown or misspelt header refuses the sync) and quoted as identifiers, never pasted.
    """
    from psycopg2 import sql
    from psycopg2.extras import execute_batch

    if not rows:
        return
    columns = list(rows[0])
    known = set(table_columns(conn, table))
    unknown = [c for c in columns if c not in known]
    if unknown or key not in columns:
        raise ReferenceColumnsMismatch(
            f"{table}: the reference file's columns {unknown or [key]!r} are not columns of the table "
            f"(it has {sorted(known)})")
    schema, name = table.split(".")
    statement = sql.SQL("INSERT INTO {table} ({columns}) VALUES ({values}) "
                        "ON CONFLICT ({key}) DO UPDATE SET {updates}").format(
        table=sql.Identifier(schema, name),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(map(sql.Placeholder, columns)),
        key=sql.Identifier(key),
        updates=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c))
                                   for c in columns if c != key))
    with conn.connection.driver_connection.cursor() as cursor:
        execute_batch(cursor, statement, rows)


def sync_reference(conn: Connection) -> None:
    def nulls(row: dict) -> dict:
        return {k: (v if v != "" else None) for k, v in row.items()}

    _upsert(conn, "ref.region", "region_code", reference.read_csv("regions.csv"))
    _upsert(conn, "ref.province", "province_code", reference.read_csv("provinces.csv"))
    _upsert(conn, "ref.programme", "programme_code",
            [nulls(r) for r in reference.read_csv("programmes.csv")])
    _upsert(conn, "ref.sector", "sector_code", reference.read_csv("sectors.csv"))
    _upsert(conn, "ref.status", "status_code", reference.read_csv("statuses.csv"))
    _upsert(conn, "ref.promoter_type", "promoter_type_code", reference.read_csv("promoter_types.csv"))
    _upsert(conn, "ref.rule", "rule_id", reference.read_csv("rules.csv"))

    conn.execute(text("DELETE FROM ref.province_alias"))
    conn.execute(
        text("INSERT INTO ref.province_alias (alias_key, province_code) VALUES (:k, :c)"),
        [{"k": k, "c": c} for k, c in reference.province_lookup().items()],
    )
    conn.execute(text("DELETE FROM ref.label_alias"))
    conn.execute(
        text("INSERT INTO ref.label_alias (domain, label_key, code) VALUES (:d, :k, :c)"),
        [{"d": domain, "k": k, "c": c}
         for domain in ("sector", "status", "promoter_type", "programme_kind")
         for k, c in reference.label_lookup(domain).items()],
    )
    conn.execute(text("DELETE FROM ref.header_synonym"))
    conn.execute(
        text("INSERT INTO ref.header_synonym (synonym_key, column_name) VALUES (:k, :c)"),
        [{"k": k, "c": c} for k, c in reference.header_lookup().items()],
    )
    conn.execute(text("DELETE FROM ref.matching_word"))
    conn.execute(
        text("INSERT INTO ref.matching_word (kind, word, expansion, note) VALUES (:kind, :word, :expansion, :note)"),
        [nulls(r) for r in reference.read_csv("matching_words.csv")],
    )
    conn.execute(text("DELETE FROM ref.rule_consequence"))
    conn.execute(
        text("INSERT INTO ref.rule_consequence (cause, consequence, why) VALUES (:cause, :consequence, :why)"),
        [nulls(r) for r in reference.read_csv("rule_consequences.csv")],
    )


def sync_data_dictionary(conn: Connection) -> None:
    """COMMENT ON every documented object and column (reference/data_dictionary.csv).

    A ``mart.*`` row documents a column of that name in every mart table or view that has it.
    """
    entries = reference.read_csv("data_dictionary.csv")
    shared = {row["column"]: row for row in entries if row["object"] == "mart.*"}
    own = {(row["object"], row["column"]): row for row in entries if row["object"] != "mart.*"}

    def comment(row: dict) -> str:
        return f"{row['label_fr']} / {row['label_ar']}: {row['description']}"

    for (obj, column), row in own.items():
        schema, name = obj.split(".")
        conn.execute(text("SELECT meta.set_comment(:s, :n, :c, :t)"),
                     {"s": schema, "n": name, "c": column or None, "t": comment(row)})
    columns = conn.execute(text(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'mart'")).all()
    for table, column in columns:
        row = own.get((f"mart.{table}", column)) or shared.get(column)
        if row is not None:
            conn.execute(text("SELECT meta.set_comment('mart', :n, :c, :t)"),
                         {"n": table, "c": column, "t": comment(row)})
