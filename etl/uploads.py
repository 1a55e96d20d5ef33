"""The clerk's side of the portal: a file uploaded, examined (the dry run), submitted, followed.

- **Dry run**: the same examination as ``iga check`` (``etl.examine`` then the warehouse checks on a
  read-only connection), its HTML and XLSX reports, and its findings kept beside the uploaded file
  in ``$IGA_HOME/portal/uploads/<upload_id>/``; one ``portal.upload`` row says what it found.
- **Submit**: the checked bytes are written into the landing folder at
  ``<province>/<period>/<sanitised name>`` (a temporary name, then a hard link that never replaces an
  existing file), then Airflow is asked to run ``iga_ingest`` over its REST API when
  ``IGA_AIRFLOW_API_URL`` is set; otherwise the next scheduled run (or ``iga run``) picks it up.
  Bytes already submitted by the province (or already loaded) are not written again.
- **Follow-up**: an upload's stage, from checked to received, being loaded, then the status the
  pipeline recorded in ``core.submission`` (loaded, partial, refused, duplicate).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import threading
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from etl.accounts import User, audit
from etl.config import SQL_DIR, Settings

log = logging.getLogger(__name__)
SUBMIT_LOCK_NAMESPACE = 7_302  # pg_advisory_xact_lock(ns, hashtext(province)): one submit at a time
MAX_STEM_CHARS = 80
INGEST_DAG = "iga_ingest"
KEEP_UNSUBMITTED = dt.timedelta(days=7)
ORIGINAL = "original"  # the uploaded bytes: $IGA_HOME/portal/uploads/<upload_id>/original/<name>
_EXAMINING = threading.Lock()  # one examination at a time per process: they are CPU-bound


def _sql(name: str) -> str:
    return (SQL_DIR / "portal" / name).read_text(encoding="utf-8")


def safe_file_name(name: str) -> str:
    """A clerk's file name made safe to write: its last path component only, letters (any script),
    digits, ``-`` and ``_``, one extension; never empty, hidden, a lock or partial file, or long."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem = re.sub(r"[^\w\-]+", "_", stem).strip("_-")[:MAX_STEM_CHARS].strip("_-") or "fichier"
    extension = re.sub(r"[^a-z0-9]", "", extension.lower())[:8]
    if extension == "part":  # the landing folder ignores *.part (files still being written)
        extension = "part_"
    return f"{stem}.{extension}" if extension else stem


def uploads_root(settings: Settings) -> Path:
    return settings.portal_state / "uploads"


def new_upload(settings: Settings, file_name: str) -> tuple[str, Path]:
    """An id and the path where a new upload's bytes are to be written (its own folder). Uploads
    left unsubmitted for KEEP_UNSUBMITTED lose their bytes then (their reports stay)."""
    prune_uploads(settings)
    upload_id = str(uuid.uuid4())
    folder = uploads_root(settings) / upload_id / ORIGINAL  # apart from the reports: no name clash
    folder.mkdir(parents=True)
    return upload_id, folder / safe_file_name(file_name)


def prune_uploads(settings: Settings, older_than: dt.timedelta | None = None) -> int:
    """Delete the bytes of uploads not submitted within ``older_than``; returns how many."""
    limit = (dt.datetime.now() - (older_than or KEEP_UNSUBMITTED)).timestamp()
    pruned = 0
    root = uploads_root(settings)
    for original in root.glob(f"*/{ORIGINAL}/*") if root.is_dir() else ():
        if original.is_file() and original.stat().st_mtime < limit:
            original.unlink(missing_ok=True)
            pruned += 1
    return pruned


def discard_upload(path: Path) -> None:
    """Remove an upload that was not completed (too large, interrupted)."""
    shutil.rmtree(path.parent.parent, ignore_errors=True)


def _sha256(path: Path) -> str:
    from etl.read import sha256_of

    return sha256_of(path)


def examine_for_portal(path: Path, province_code: str, period: str, engine):
    """``iga check``'s examination: the file in a child process capped in memory and time (a file
    that kills or hangs the reader is refused, the portal goes on), then the warehouse's checks
    (read-only) here, on the portal's own connection."""
    from etl.dry_run import examine_isolated
    from etl.quality_checks import warehouse_checks

    with _EXAMINING:  # one child at a time, and never forked while the warm-up imports
        exam = examine_isolated(path, province_code, period)
    warehouse_checks(exam, engine)
    return exam


def warm_up() -> None:
    """Examine a tiny generated file once, so that the first clerk does not pay the imports
    (pandas, Great Expectations: a few seconds) and the caches of the reference data."""
    import random
    import tempfile

    from etl.examine import examine
    from etl.sample import write_province_file

    with tempfile.TemporaryDirectory(prefix="iga-warm-up-") as folder, _EXAMINING:
        path = Path(folder) / "warm-up.xlsx"
        write_province_file(path, "MA-TAO", "2013", 5, random.Random(0), 1)
        examine(path, "MA-TAO", "2013")


def dry_run(engine, settings: Settings, user: User, upload_id: str, path: Path, file_name: str,
            period: str, address: str | None) -> dict:
    """Examine an uploaded file as ``iga check`` does, write its reports, record the upload."""
    from etl.reports import finding_dicts, write_check_report

    exam = examine_for_portal(path, user.province_code, period.strip(), engine)
    findings = finding_dicts(exam.findings)
    folder = path.parent.parent
    write_check_report(exam, folder)
    (folder / "findings.json").write_text(json.dumps(findings, ensure_ascii=False), encoding="utf-8")
    record = {"upload_id": upload_id, "user_id": user.user_id, "province_code": user.province_code,
              "period": period.strip()[:20], "file_name": str(file_name)[:255], "stored_name": path.name,
              "sha256": _sha256(path), "size_bytes": path.stat().st_size, "status": exam.status,
              "rows_read": exam.rows_read, "rows_loadable": len(exam.rows), "rows_refused": len(exam.rejected),
              "reason": exam.reason_text(), "reason_ar": exam.reason_text("ar")}
    with engine.begin() as conn:
        conn.execute(text(_sql("insert_upload.sql")), record)
        audit(conn, user, "check", address, user.province_code, upload_id,
              f"{record['file_name']} ({record['size_bytes']} bytes): {exam.status}, "
              f"{exam.rows_read} read, {len(exam.rows)} loadable, {len(exam.rejected)} refused")
    return record


@dataclass(frozen=True)
class UploadFiles:
    folder: Path
    stored_name: str

    @property
    def original(self) -> Path:
        return self.folder / ORIGINAL / self.stored_name

    @property
    def report_html(self) -> Path:
        return self.folder / f"{Path(self.stored_name).stem}.html"

    @property
    def report_xlsx(self) -> Path:
        return self.folder / f"{Path(self.stored_name).stem}-anomalies.xlsx"

    @property
    def findings(self) -> list[dict]:
        path = self.folder / "findings.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def upload_record(engine, user: User, upload_id: str) -> dict | None:
    """An upload with its submission's status, if ``user`` may see it (None otherwise: the caller
    answers 403, whether it exists or not)."""
    try:
        uuid.UUID(str(upload_id))
    except ValueError:
        return None
    with engine.connect() as conn:
        row = conn.execute(text(_sql("upload_status.sql")), {"upload_id": upload_id}).mappings().first()
        if row is None or not user.may_see(row["province_code"]):
            return None
        earlier = None if row["submitted_at"] else earlier_delivery(conn, row["province_code"], row["sha256"],
                                                                     str(row["upload_id"]))
    return {**row, "earlier": earlier}  # earlier: the same bytes already delivered, if so


def upload_files(settings: Settings, upload: dict) -> UploadFiles:
    return UploadFiles(uploads_root(settings) / str(upload["upload_id"]), upload["stored_name"])


def earlier_delivery(conn, province_code: str, sha256: str, upload_id: str | None = None) -> dict | None:
    """The same bytes already delivered by this province: submitted through the portal or recorded
    by the pipeline (whatever the name). None if these bytes are new."""
    row = conn.execute(text(_sql("earlier_delivery.sql")),
                       {"province_code": province_code, "sha256": sha256, "upload_id": upload_id}).mappings().first()
    return dict(row) if row else None


def _link_into_landing(source: Path, folder: Path, name: str) -> str:
    """Write ``source`` into ``folder`` under ``name`` (or name-2, name-3… when taken) without ever
    replacing a file; returns the name used."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{uuid.uuid4().hex}.part"  # hidden and .part: the ingest never lists it
    try:
        with open(source, "rb") as src, open(partial, "xb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        stem, dot, extension = name.rpartition(".")
        if not dot:
            stem, extension = name, ""
        for attempt in range(1, 1000):
            candidate = name if attempt == 1 else f"{stem}-{attempt}" + (f".{extension}" if extension else "")
            try:
                os.link(partial, folder / candidate)  # atomic, and fails rather than replace
                return candidate
            except FileExistsError:
                continue
        raise FileExistsError(f"no free name for {name} in {folder}")
    finally:
        partial.unlink(missing_ok=True)


def landing_folder(settings: Settings, province_code: str, period: str) -> Path:
    """``<landing>/<province>/<period>``, checked to be inside the landing folder."""
    from etl.periods import period_end

    if period_end(period) is None or not re.fullmatch(r"MA-[A-Z0-9]{2,4}", province_code or ""):
        raise ValueError(f"not a landing folder: {province_code!r}/{period!r}")
    root = settings.landing.resolve()
    folder = root / province_code / period.strip().upper()
    if folder.exists() and folder.resolve().parent.parent != root:
        raise ValueError(f"{folder} leads out of the landing folder")
    return folder


def submit(engine, settings: Settings, user: User, upload: dict, confirmed: bool, address: str | None) -> dict:
    """Deliver a checked upload into the landing folder; returns ``{"outcome": …}``:

    ``submitted`` (with ``landing_path``), ``already`` (this upload was submitted before),
    ``duplicate`` (the same bytes were delivered before: ``earlier``), ``refused`` (the dry run
    refused the whole file), ``confirm`` (rows would be refused and ``confirmed`` is false),
    ``expired`` (left unsubmitted too long: its bytes were pruned, upload it again).
    """
    if upload["submitted_at"] is not None:
        return {"outcome": "already", "landing_path": upload["landing_path"]}
    if upload["check_status"] == "refused":
        return {"outcome": "refused", "reason_fr": upload["check_reason_fr"], "reason_ar": upload["check_reason_ar"]}
    if upload["rows_refused"] and not confirmed:
        return {"outcome": "confirm"}
    files = upload_files(settings, upload)
    if not files.original.is_file():  # left unsubmitted too long: pruned
        return {"outcome": "expired"}
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext(:p))"),
                     {"ns": SUBMIT_LOCK_NAMESPACE, "p": upload["province_code"]})
        fresh = conn.execute(text("SELECT submitted_at, landing_path FROM portal.upload WHERE upload_id = :u "
                                  "FOR UPDATE"), {"u": upload["upload_id"]}).one()
        if fresh.submitted_at is not None:  # a second click that waited for the lock
            return {"outcome": "already", "landing_path": fresh.landing_path}
        earlier = earlier_delivery(conn, upload["province_code"], upload["sha256"], str(upload["upload_id"]))
        if earlier is not None:
            audit(conn, user, "submit_duplicate", address, upload["province_code"], upload["upload_id"],
                  f"same bytes as {earlier['landing_path']}")
            return {"outcome": "duplicate", "earlier": earlier}
        folder = landing_folder(settings, upload["province_code"], upload["period"])
        name = _link_into_landing(files.original, folder, files.stored_name)
        landing_path = folder.relative_to(settings.landing.resolve()).joinpath(name).as_posix()
        conn.execute(text("UPDATE portal.upload SET submitted_at = clock_timestamp(), landing_path = :l "
                          "WHERE upload_id = :u"), {"l": landing_path, "u": upload["upload_id"]})
        audit(conn, user, "submit", address, upload["province_code"], upload["upload_id"], landing_path)
    files.original.unlink(missing_ok=True)  # the landing copy is the one now
    dag_run_id, note = trigger_ingest(settings)
    with engine.begin() as conn:
        conn.execute(text("UPDATE portal.upload SET dag_run_id = :r, trigger_note = :n WHERE upload_id = :u"),
                     {"r": dag_run_id, "n": note, "u": upload["upload_id"]})
        audit(conn, user, "trigger_ingest", address, upload["province_code"], upload["upload_id"], note)
    return {"outcome": "submitted", "landing_path": landing_path, "dag_run_id": dag_run_id, "note": note}


# --- Airflow's REST API (etl.operate's client: the same calls `iga airflow` and its tests make) -

def trigger_ingest(settings: Settings) -> tuple[str | None, str]:
    """Ask Airflow to run ``iga_ingest`` now; returns (its run id or None, what happened)."""
    if not settings.airflow_api_url:
        return None, "no Airflow API configured: the next scheduled run or `iga run` loads it"
    from etl.operate import AirflowNotReady, api_token, http_json

    try:
        token = api_token(settings.airflow_api_url, settings.airflow_api_user or "", settings.airflow_api_password or "")
        status, body = http_json("POST", f"{settings.airflow_api_url}/api/v2/dags/{INGEST_DAG}/dagRuns",
                                 token=token, body={"logical_date": None, "note": "portal submission"}, timeout=15)
        if status >= 300 or not isinstance(body, dict):
            raise AirflowNotReady(f"HTTP {status}")
    except (OSError, AirflowNotReady) as exc:  # the file is in the landing folder either way
        log.warning("could not trigger %s on %s: %s", INGEST_DAG, settings.airflow_api_url, type(exc).__name__)
        return None, f"Airflow did not take the trigger ({type(exc).__name__}): the next scheduled run loads it"
    return body["dag_run_id"], f"{INGEST_DAG} run {body['dag_run_id']} requested"


def ingest_run_state(settings: Settings, dag_run_id: str | None) -> str | None:
    """The state Airflow gives that run (queued, running, success, failed), or None if unknown."""
    if not (settings.airflow_api_url and dag_run_id):
        return None
    from urllib.parse import quote

    from etl.operate import AirflowNotReady, api_token, http_json

    try:
        token = api_token(settings.airflow_api_url, settings.airflow_api_user or "", settings.airflow_api_password or "")
        status, body = http_json("GET", f"{settings.airflow_api_url}/api/v2/dags/{INGEST_DAG}/dagRuns/"
                                        f"{quote(dag_run_id, safe='')}", token=token, timeout=5)
    except (OSError, AirflowNotReady):
        return None
    return str(body.get("state")) if status == 200 and isinstance(body, dict) else None


def stage(settings: Settings, upload: dict) -> str:
    """Where an upload is: checked, received, loading, or the pipeline's status for it."""
    if upload["submission_status"]:
        return upload["submission_status"]
    if upload["submitted_at"] is None:
        return "checked"
    return "loading" if ingest_run_state(settings, upload["dag_run_id"]) == "running" else "received"


def province_submissions(engine, province_code: str) -> list[dict]:
    """Every delivery of a province, newest first: what the pipeline recorded, and what the portal
    submitted that the pipeline has not loaded yet."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(_sql("province_submissions.sql")),
                                              {"province_code": province_code}).mappings()]


def what_to_fix_first(findings: list[dict]) -> dict:
    """A dry run's findings in the order a clerk fixes them: problems with the file itself and its
    columns (refusals, unmapped or guessed columns with their suggestions), then every error at its
    cell (rows not loaded), then warnings grouped by rule (rows loaded, to check), then information."""
    from etl.reports import in_fix_order, is_file_level, rule_heading

    file_level = [f for f in in_fix_order(findings) if is_file_level(f["rule_id"], f["excel_row"])]
    findings = [f for f in findings if not is_file_level(f["rule_id"], f["excel_row"])]
    errors = [f for f in findings if f["severity"] == "error"]
    errors.sort(key=lambda f: (f["sheet"] or "", f["excel_row"], f["column_header"] or ""))
    by_rule: dict[str, list[dict]] = {}
    for f in findings:
        if f["severity"] == "warning":
            by_rule.setdefault(f["rule_id"], []).append(f)
    warnings = [{"rule_id": rule, "count": len(items), "items": items,
                 "label_fr": rule_heading(rule, "fr"), "label_ar": rule_heading(rule, "ar")}
                for rule, items in sorted(by_rule.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    info = [f for f in findings if f["severity"] not in ("error", "warning")]
    return {"file": file_level, "errors": errors, "warnings": warnings, "info": info}
