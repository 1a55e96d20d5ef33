"""The ``iga`` command: one front door for the demo, operators, clerks and CI.

    iga demo                      generate the sample national dataset, then ``iga run``
    iga run                       process everything new in the landing folder through the DAGs
    iga check FILE --province MA-TAO --period 2013   validate one file, load nothing
    iga db url | migrate | docs | stop   the warehouse's URL, apply migrations, write
                                  docs/warehouse.md, stop the embedded server
    iga airflow [run|start|stop|status]   Airflow (UI, scheduler) on the embedded defaults
    iga portal [--port 8090]      the provinces' portal (upload, dry run, submit, national board)
    iga portal user add --email … --province MA-TAO | --national    an account and its password link
    iga portal user disable --email …   the account can no longer log in
    iga db backup | restore [FOLDER]   pg_dump + the archive's SHA-256 manifest; restore into an
                                  empty warehouse and verify every archived file
    iga deploy check              refuse a production start with example or short secrets
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from etl.config import settings
from etl.errors import EXIT_DATA_ERRORS, EXIT_OK, EXIT_PIPELINE_FAILED, EXIT_REFUSED, IgaError
from etl.formatting import format_amount, format_count


def print_national_summary(url: str) -> None:
    from sqlalchemy import text

    from etl.warehouse import engine

    with engine(url).connect() as conn:
        regions = conn.execute(text("SELECT * FROM mart.region_summary ORDER BY region_code")).mappings().all()
        national = conn.execute(text("SELECT * FROM mart.national_summary")).mappings().first()
    if national is None:
        print("No published aggregates yet.")
        return
    header = f"{'Region':<28}{'Projects':>9}{'Total cost (MAD)':>20}{'INDH (MAD)':>20}" \
             f"{'Benef.':>9}{'Women':>8}{'Youth':>8}{'Jobs':>8}"
    print(header)
    print("-" * len(header))

    def line(name: str, row) -> str:
        return (f"{name[:27]:<28}{format_count(row['projects']):>9}{format_amount(row['total_cost_mad']):>20}"
                f"{format_amount(row['indh_contribution_mad']):>20}{format_count(row['beneficiaries']):>9}"
                f"{format_count(row['women']):>8}{format_count(row['youth']):>8}{format_count(row['jobs_created']):>8}")

    for region in regions:
        print(line(region["region_name_fr"], region))
    print("-" * len(header))
    print(line(f"Morocco ({national['provinces_reporting']} provinces)", national))


def print_run_report(url: str, first_new_id: int) -> None:
    from sqlalchemy import text

    from etl.warehouse import engine

    with engine(url).connect() as conn:
        rows = conn.execute(text(
            "SELECT status, count(*) AS files, sum(rows_loaded) AS loaded, sum(rows_rejected) AS rejected "
            "FROM core.submission WHERE submission_id > :first GROUP BY status ORDER BY status"),
            {"first": first_new_id}).all()
        refused = conn.execute(text(
            "SELECT landing_path, reason FROM core.submission WHERE submission_id > :first "
            "AND status = 'refused' ORDER BY submission_id"), {"first": first_new_id}).all()
    if not rows:
        print("Nothing new in the landing folder.")
    for row in rows:
        print(f"  {row.status:<10} {row.files:>4} file(s), {row.loaded or 0} rows loaded, "
              f"{row.rejected or 0} rows refused")
    for row in refused:
        print(f"  refused: {row.landing_path}: {row.reason}")


def command_run(args) -> int:
    from sqlalchemy import text

    from etl.migrate import migrate
    from etl.pipeline import configure_airflow, run_pipeline
    from etl.warehouse import display_url, engine, warehouse_url

    current = settings()
    url = warehouse_url()
    migrate(engine(url))
    with engine(url).connect() as conn:
        before = conn.execute(text("SELECT coalesce(max(submission_id), 0) FROM core.submission")).scalar_one()
    configure_airflow(current, url)
    print(f"Landing folder: {current.landing}")
    run_pipeline()  # a failed DAG run raises PipelineFailed: main() says so, exit 3
    print("\nThis run:")
    print_run_report(url, before)
    print("\nNational summary (mart.region_summary, mart.national_summary):")
    print_national_summary(url)
    print(f"\nPublished files:  {current.published / 'latest'}")
    print(f"Quality reports:  {current.reports}")
    print(f"Mail outbox:      {current.outbox}" if not current.smtp_conn_id
          else f"Mail sent through Airflow connection {current.smtp_conn_id}")
    print(f"Warehouse:        psql \"$(iga db url)\"   (now {display_url(url)})")
    return EXIT_OK


def command_demo(args) -> int:
    from etl.sample import generate

    current = settings()
    expected = generate(current.landing, seed=args.seed)
    print(f"Sample data: {len(expected.files)} provincial files written to {current.landing}")
    status = command_run(args)
    if status == EXIT_OK:
        status = print_reconciliation(expected)
    if status == EXIT_OK:
        print_demo_logins(current)
    return status


def print_demo_logins(current) -> None:
    """The demo's portal accounts (a Taounate clerk, the national coordination) and their logins."""
    from etl.accounts import ensure_demo_accounts
    from etl.warehouse import engine

    print(f"\nProvinces' portal: `make portal` (or `iga portal`), then {current.portal_url}")
    for email, password, province in ensure_demo_accounts(engine(), current.portal_state):
        print(f"  {'clerk of ' + province if province else 'national':<17} {email}   password: {password}")


def print_reconciliation(expected) -> int:
    """Compare the published national figures with the generator's exact totals."""
    from decimal import Decimal

    from sqlalchemy import text

    from etl.warehouse import engine

    with engine().connect() as conn:
        national = conn.execute(text("SELECT * FROM mart.national_summary")).mappings().one()
    want = expected.national
    pairs = {
        "projects": want.projects, "beneficiaries": want.beneficiaries, "women": want.women,
        "youth": want.youth, "jobs_created": want.jobs_created,
        "total_cost_mad": Decimal(want.total_cost_cents) / 100,
        "indh_contribution_mad": Decimal(want.indh_contribution_cents) / 100,
        "promoter_contribution_mad": Decimal(want.promoter_contribution_cents) / 100,
        "partner_contribution_mad": Decimal(want.partner_contribution_cents) / 100,
    }
    wrong = {k: (national[k], v) for k, v in pairs.items() if national[k] != v}
    if wrong:
        print(f"\nReconciliation FAILED against the sample generator: {wrong}", file=sys.stderr)
        return EXIT_PIPELINE_FAILED
    print("\nReconciliation: the national figures equal the sample generator's totals, to the centime.")
    return EXIT_OK


def command_check(args) -> int:
    from etl.dry_run import dry_run

    result = dry_run(Path(args.file), args.province, args.period, settings().reports / "check")
    print(f"{args.file}: {result.status.upper()} — {result.rows_read} project rows read, "
          f"{result.rows_loaded} would be loaded, {result.rows_rejected} refused")
    if result.reason_fr:
        print(f"Reason: {result.reason_fr}")
    if result.by_rule:
        print("By rule:")
        for severity, rule_id, count in result.by_rule:
            print(f"  {severity:<7} {rule_id:<32} {count:>5}")
    # What to fix first: the file and its columns, then the errors, then warnings and information.
    if result.findings_total:
        shown = len(result.first_findings)
        print("Findings, what to fix first" + (f" ({shown} of {result.findings_total}):"
                                              if shown < result.findings_total else ":"))
    else:
        print("No findings.")
    for finding in result.first_findings:
        where = " ".join(p for p in (finding["sheet"] and f"[{finding['sheet']}]",
                                     finding["excel_row"] and f"row {finding['excel_row']}",
                                     finding["column_header"] and f"«{finding['column_header']}»") if p)
        print(f"  {finding['severity']:<7} {finding['rule_id']:<32} {where}: {finding['message_fr']}")
    if result.findings_total > len(result.first_findings):
        print(f"  … {result.findings_total - len(result.first_findings)} more in the findings workbook below")
    print(f"({result.compared})")
    print(f"Report: {result.html_path}")
    print(f"Findings workbook: {result.xlsx_path}")
    return {"loaded": EXIT_OK, "partial": EXIT_DATA_ERRORS}.get(result.status, EXIT_REFUSED)


def command_db(args) -> int:
    from etl.warehouse import display_url, engine, stop_embedded, warehouse_url

    if args.action == "url":
        url = warehouse_url()
        if args.analyst:
            from etl.migrate import migrate
            from etl.warehouse import embedded_reader_url

            if settings().warehouse_url:
                print("With IGA_WAREHOUSE_URL, give analysts their own login: "
                      "CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE iga_analyst;", file=sys.stderr)
                return EXIT_DATA_ERRORS
            migrate(engine(url))
            url = embedded_reader_url(url)
        print(display_url(url))
    elif args.action == "migrate":
        from etl.migrate import migrate

        applied = migrate(engine())
        print(f"Applied: {', '.join(applied)}" if applied else "Warehouse schema is up to date.")
    elif args.action == "docs":
        from etl.config import REPO_ROOT
        from etl.dictionary import data_dictionary_markdown
        from etl.migrate import migrate

        migrate(engine())
        target = REPO_ROOT / "docs" / "warehouse.md"
        target.parent.mkdir(exist_ok=True)
        target.write_text(data_dictionary_markdown(engine()), encoding="utf-8")
        print(f"Wrote {target}")
    elif args.action == "backup":
        from etl.backup import take_backup

        current = settings()
        keep = args.keep if args.keep is not None else current.backup_keep
        folder = take_backup(warehouse_url(), current.backups, current.archive, keep)
        print(f"Backup written: {folder} (the newest {keep} kept)")
    elif args.action == "restore":
        return restore(args)
    elif args.action == "stop":
        if settings().warehouse_url:
            print("IGA_WAREHOUSE_URL is set: that server is not ours to stop.")
        else:
            print("Embedded warehouse stopped." if stop_embedded(settings().pgdata) else "Not running.")
    return EXIT_OK


def restore(args) -> int:
    """``iga db restore FOLDER``: into an empty warehouse, then every archived file checked."""
    from etl.backup import backups, restore_backup
    from etl.warehouse import warehouse_url

    current = settings()
    folder = Path(args.backup) if args.backup else (backups(current.backups) or [None])[-1]
    if folder is None:
        print(f"No backup in {current.backups}: name one, iga db restore FOLDER", file=sys.stderr)
        return EXIT_DATA_ERRORS
    result = restore_backup(warehouse_url(), folder, current.archive)  # RestoreRefused: one line, exit 1
    archive = result["archive"]
    print(f"Restored {folder}: {result['submissions']} submissions; archived files: {len(archive['ok'])} verified, "
          f"{len(archive['missing'])} missing, {len(archive['damaged'])} damaged (SHA-256)")
    for state in ("missing", "damaged"):
        for path in archive[state]:
            print(f"  {state}: {current.archive / path}", file=sys.stderr)
    return EXIT_OK if not archive["missing"] and not archive["damaged"] else EXIT_DATA_ERRORS


def command_deploy(args) -> int:
    """``iga deploy check``: refuse a production start with example or short secrets, or mail in clear."""
    from etl.config import environment
    from etl.deployment import deployment_problems

    problems = deployment_problems(environment())
    for problem in problems:
        print(f"refused: {problem}", file=sys.stderr)
    if problems:
        print("Set them in .env (see .env.example for how to generate each), then start again.", file=sys.stderr)
        return EXIT_DATA_ERRORS
    print("Secrets and mail settings: fit for production.")
    return EXIT_OK


def command_airflow(args) -> int:
    from etl import operate

    current = settings()
    if args.action == "stop":
        return 1 if operate.stop_airflow(current) else EXIT_OK
    if args.action == "status":
        return operate.airflow_status(current)
    return operate.run_airflow(current, port=args.port, detach=args.action == "start")


def command_portal(args) -> int:
    from etl.migrate import migrate
    from etl.warehouse import engine

    current = settings()
    migrate(engine())
    if args.portal_command == "user":
        return command_portal_user(args, current)
    return serve_portal(current, args.host, args.port)


def command_portal_user(args, current) -> int:
    from etl import accounts
    from etl.warehouse import engine

    if args.action == "list":
        for email, province, active, has_password in accounts.list_users(engine()):
            state = "active" if active and has_password else "awaiting password" if active else "disabled"
            print(f"{email:<40} {province or 'national':<9} {state}")
        return EXIT_OK
    if not args.email:
        print("--email is required", file=sys.stderr)
        return EXIT_DATA_ERRORS
    try:
        if args.action == "disable":
            if not accounts.disable_user(engine(), args.email):
                print(f"No active account for {args.email}.", file=sys.stderr)
                return EXIT_DATA_ERRORS
            print(f"{args.email}: disabled (it cannot log in; its open sessions have ended).")
            return EXIT_OK
        if not args.national and not args.province:
            print("Say whose account it is: --province MA-TAO (a clerk) or --national.", file=sys.stderr)
            return EXIT_DATA_ERRORS
        token = accounts.add_user(engine(), args.email, None if args.national else args.province)
    except accounts.AccountError as exc:
        print(f"Cannot do that: {exc}", file=sys.stderr)
        return EXIT_DATA_ERRORS
    print(f"Account created for {args.email} ({'national' if args.national else args.province}).")
    print(f"Send them this one-time link to choose their password (valid {accounts.TOKEN_LIFETIME.days * 24} h):")
    print(f"  {current.portal_url}/password/{token}")
    return EXIT_OK


def serve_portal(current, host: str, port: int) -> int:
    """The portal in the foreground (uvicorn) until Ctrl-C."""
    import socket

    import uvicorn

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            print(f"Port {port} on {host} is taken: stop what uses it or give --port.", file=sys.stderr)
            return EXIT_DATA_ERRORS
    print(f"Provinces' portal on http://{host}:{port}  (Ctrl-C stops it)")
    print("  first account: iga portal user add --email … --province MA-TAO (or --national)")
    # No access log: the one-time password links would land in it; portal.audit records the rest.
    uvicorn.run("portal.app:create_app", factory=True, host=host, port=port, access_log=False,
                server_header=False, log_level="warning")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="iga", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="on an internal error, print the traceback")
    commands.add_parser("run", parents=[common], help="process everything new in the landing folder").set_defaults(func=command_run)
    demo = commands.add_parser("demo", parents=[common], help="generate the sample national dataset, then run")
    demo.add_argument("--seed", type=int, default=2013)
    demo.set_defaults(func=command_demo)
    check = commands.add_parser("check", parents=[common], help="validate one file without loading it")
    check.add_argument("file")
    check.add_argument("--province", required=True, help="ISO 3166-2:MA code, e.g. MA-TAO")
    check.add_argument("--period", required=True, help="YYYY, YYYY-Qn or YYYY-MM")
    check.set_defaults(func=command_check)
    db = commands.add_parser("db", parents=[common], help="the warehouse")
    db.add_argument("action", choices=("url", "migrate", "docs", "backup", "restore", "stop"))
    db.add_argument("backup", nargs="?", help="with restore: the backup folder (default: the newest)")
    db.add_argument("--keep", type=int, default=None, help="with backup: how many backups to keep "
                                                             "(default IGA_BACKUP_KEEP, 14)")
    db.add_argument("--analyst", action="store_true",
                    help="with url: the read-only login of the embedded warehouse (role iga_analyst)")
    db.set_defaults(func=command_db)
    deploy = commands.add_parser("deploy", parents=[common], help="production checks (docker-compose's airflow-init runs them)")
    deploy.add_argument("action", choices=("check",))
    deploy.set_defaults(func=command_deploy)
    airflow = commands.add_parser("airflow", parents=[common], help="Airflow: UI, scheduler, DAG processor, triggerer")
    airflow.add_argument("action", nargs="?", default="run", choices=("run", "start", "stop", "status"),
                         help="run: in the foreground until Ctrl-C (default); start: in the background")
    airflow.add_argument("--port", type=int, default=None, help="UI/API port on 127.0.0.1 (default 8080, "
                                                                "or a free one when it is taken)")
    airflow.set_defaults(func=command_airflow)
    portal = commands.add_parser("portal", help="the provinces' portal; `portal user …` manages its accounts")
    portal.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    portal.add_argument("--port", type=int, default=8090, help="port (default 8090)")
    portal.set_defaults(func=command_portal, portal_command=None)
    portal_commands = portal.add_subparsers(dest="portal_command")
    user = portal_commands.add_parser("user", help="add, disable or list portal accounts")
    user.add_argument("action", choices=("add", "disable", "list"))
    user.add_argument("--email")
    whose = user.add_mutually_exclusive_group()
    whose.add_argument("--province", help="a clerk of this province (ISO 3166-2:MA code, e.g. MA-TAO)")
    whose.add_argument("--national", action="store_true", help="the national coordination (every province)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for stream in (sys.stdout, sys.stderr):  # names from outside may hold undecodable bytes
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        return args.func(args)
    except IgaError as exc:  # the pipeline's own errors: one line and their exit code, no traceback
        if args.debug:
            print(getattr(exc, "child_traceback", ""), file=sys.stderr)  # an error in etl.isolate's child
            raise
        print(f"iga {args.command}: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - an internal error: one line, exit 3 (--debug: traceback)
        if args.debug:
            raise
        print(f"iga {args.command}: internal error ({type(exc).__name__}: {_one_line(exc)}); "
              f"nothing was changed by this failure. Run again with --debug for the traceback.", file=sys.stderr)
        return EXIT_PIPELINE_FAILED


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("…" if len(text) > 300 else "")


if __name__ == "__main__":
    sys.exit(main())
