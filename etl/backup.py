"""Backups of the warehouse and restore into an empty one (``iga db backup`` / ``iga db restore``).

A backup is a folder ``$IGA_HOME/backups/<UTC time>/`` (``IGA_BACKUP_DIR``) holding:

- ``warehouse.dump``: ``pg_dump --format=custom`` of the warehouse (schemas, data, history, marts);
- ``manifest.json``: when, the dump's size and SHA-256, and every archived original file (path
  under the archive folder, size, SHA-256) as it was when the backup was taken.

The archived files themselves are content-addressed and never change, so the manifest is what a
restore checks them against: back the archive folder up with the host's file backups. A backup is
written under a hidden ``.partial`` name and renamed when complete, so a killed backup never looks
like a good one; the newest ``IGA_BACKUP_KEEP`` backups are kept (the ``iga_backup`` DAG runs daily).

``pg_dump`` / ``pg_restore`` are the ones pgserver ships (PostgreSQL 16, matching the embedded
server and docker-compose's ``postgres:16``); ``IGA_PG_BIN`` names another folder of client tools
for a server of a newer major version.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import text

from etl.config import environment, settings
from etl.errors import EXIT_DATA_ERRORS, IgaError
from etl.read import sha256_of

DUMP = "warehouse.dump"
MANIFEST = "manifest.json"
WAREHOUSE_SCHEMAS = ("ref", "core", "quality", "mart", "meta", "portal")


class BackupFailed(IgaError, RuntimeError):
    """A backup could not be taken or is not trustworthy; the message says which part."""


class RestoreRefused(IgaError, RuntimeError):
    """The restore was not attempted (target not empty, backup damaged) or did not complete."""

    exit_code = EXIT_DATA_ERRORS


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client tool: ``IGA_PG_BIN``, else the binaries pgserver ships."""
    folder = settings().pg_bin
    if folder is None:
        import pgserver

        folder = Path(pgserver.__file__).parent / "pginstall" / "bin"
    return str(folder / name)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """(URI without the password, environment with PGPASSWORD): no secret on a command line."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    env = environment()
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(args: list[str], env: dict[str, str], what: str, failure=BackupFailed) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise failure(f"{what} failed ({Path(args[0]).name} exit {result.returncode}): {result.stderr.strip()[-1500:]}")


def archive_manifest(archive_root: Path) -> list[dict]:
    """Every archived original file, with its size and SHA-256 as read now."""
    if not archive_root.is_dir():
        return []
    return [{"path": path.relative_to(archive_root).as_posix(), "bytes": path.stat().st_size,
             "sha256": sha256_of(path)}
            for path in sorted(archive_root.rglob("*")) if path.is_file() and not path.name.endswith(".part")]


def take_backup(url: str, backups_root: Path, archive_root: Path, keep: int) -> Path:
    """Dump the warehouse and the archive's manifest into a new backup folder; keep the newest ``keep``."""
    backups_root.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    partial = backups_root / f".{stamp}.partial"
    partial.mkdir(mode=0o700)
    try:
        uri, env = _libpq(url)
        _run([pg_tool("pg_dump"), "--format=custom", "--no-password", "--file", str(partial / DUMP),
              "--dbname", uri], env, "pg_dump")
        from etl.warehouse import engine

        with engine(url).connect() as conn:
            submissions = conn.execute(text("SELECT count(*) FROM core.submission")).scalar_one()
            server = conn.execute(text("SHOW server_version")).scalar_one()
        archived = archive_manifest(archive_root)
        mismatched = [entry["path"] for entry in archived if not entry["path"].split("/")[1:2] == [entry["sha256"]]]
        manifest = {
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "server_version": server,
            "warehouse": {"file": DUMP, "bytes": (partial / DUMP).stat().st_size, "sha256": sha256_of(partial / DUMP),
                          "submissions": submissions},
            "archive": archived,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if mismatched:  # a content-addressed file whose bytes no longer match its address
            raise BackupFailed(f"archived files damaged (their SHA-256 no longer matches): {mismatched[:10]}")
        final = backups_root / stamp
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    prune(backups_root, keep)
    return final


def backups(backups_root: Path) -> list[Path]:
    """Complete backups, oldest first."""
    if not backups_root.is_dir():
        return []
    return sorted(p for p in backups_root.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and (p / MANIFEST).exists())


def prune(backups_root: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups, and what killed backups left; returns what went."""
    complete = backups(backups_root)
    gone = complete[:-keep] if keep > 0 else []
    gone += [p for p in backups_root.iterdir() if p.name.endswith(".partial")]
    for path in gone:
        shutil.rmtree(path, ignore_errors=True)
    return gone


def verify_archive(manifest: dict, archive_root: Path) -> dict[str, list[str]]:
    """Each archived file of the manifest against its SHA-256: ok, missing, damaged."""
    found: dict[str, list[str]] = {"ok": [], "missing": [], "damaged": []}
    for entry in manifest["archive"]:
        path = archive_root / entry["path"]
        if not path.is_file():
            found["missing"].append(entry["path"])
        elif sha256_of(path) != entry["sha256"]:
            found["damaged"].append(entry["path"])
        else:
            found["ok"].append(entry["path"])
    return found


def restore_backup(url: str, folder: Path, archive_root: Path) -> dict:
    """Restore a backup into an empty warehouse, then check every archived file.

    Refuses a warehouse that already has the project's schemas (a restore never merges) and a dump
    whose SHA-256 differs from the manifest's. Returns the submissions restored and the archive check.
    """
    from etl.migrate import migrate
    from etl.warehouse import engine

    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    dump = folder / manifest["warehouse"]["file"]
    if sha256_of(dump) != manifest["warehouse"]["sha256"]:
        raise RestoreRefused(f"{dump} does not match its manifest (damaged or incomplete backup)")
    with engine(url).connect() as conn:
        present = conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname = ANY(:names)"),
                               {"names": list(WAREHOUSE_SCHEMAS)}).scalars().all()
    if present:
        raise RestoreRefused(f"the target warehouse is not empty (it has the schemas {sorted(present)}): "
                             "restore into a new, empty database")
    with engine(url).begin() as conn:  # the group roles the grants name (cluster-wide; may be missing)
        for role in ("iga_pipeline", "iga_analyst"):
            if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
                conn.execute(text("CREATE ROLE " + role + " NOLOGIN"))  # fixed names, not input
    uri, env = _libpq(url)
    _run([pg_tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges",
          "--no-password", "--dbname", uri, str(dump)], env, "pg_restore", RestoreRefused)
    migrate(engine(url))  # owners and grants as the migrations set them; no schema change
    with engine(url).connect() as conn:
        submissions = conn.execute(text("SELECT count(*) FROM core.submission")).scalar_one()
    if submissions != manifest["warehouse"]["submissions"]:
        raise RestoreRefused(f"restored {submissions} submissions, the backup had {manifest['warehouse']['submissions']}")
    return {"submissions": submissions, "archive": verify_archive(manifest, archive_root)}


def scheduled_backup() -> str:
    """The ``iga_backup`` DAG's task: a backup of the configured warehouse, keeping the newest N."""
    from etl.warehouse import warehouse_url

    current = settings()
    return str(take_backup(warehouse_url(), current.backups, current.archive, current.backup_keep))
