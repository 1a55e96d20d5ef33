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
            conn.exec_driver_sql(path.read_text())
            conn.execute(text("INSERT INTO meta.schema_migration (version) VALUES (:v)"), {"v": path.stem})
            applied_now.append(path.stem)
        sync_reference(conn)
    return applied_now


def _upsert(conn: Connection, table: str, key: str, rows: list[dict]) -> None:
    # Identifiers come from the fixed calls below, never from data.
    columns = list(rows[0])
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )
    conn.execute(text(statement), rows)


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
