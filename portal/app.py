"""The provinces' portal: FastAPI routes rendered with Jinja2, each calling one ``etl`` function.

A clerk logs in, uploads a file, reads its dry run, submits it and follows it into the warehouse;
the national coordination reads the completeness board and drills down. ``create_app()`` opens
nothing: the warehouse is reached on the first request (``iga portal`` migrates it first).
"""
from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from etl.config import Settings
from etl.config import settings as load_settings
from portal import web

log = logging.getLogger("iga.portal")
TEMPLATES = web.HERE / "templates"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POLL_SECONDS = 5


class LoginRequired(Exception):
    """No session: the page sends the browser to the login form."""


def create_app(settings: Settings | None = None, engine=None) -> web.PortalMiddleware:
    """The portal on ``settings`` (default: the environment's) and the warehouse of ``engine``
    (default: ``etl.warehouse.engine()``, resolved on first use)."""
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        from etl.uploads import warm_up

        # In the background: the server answers at once; the first dry run waits for it if needed.
        threading.Thread(target=warm_up, name="portal-warm-up", daemon=True).start()
        yield

    app = FastAPI(title="Portail AGR", docs_url=None, redoc_url=None, openapi_url=None, debug=False,
                  lifespan=lifespan)
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.filters.update(count=web.count_filter, mad=web.mad_filter)  # etl.formatting's
    app.mount("/static", StaticFiles(directory=str(web.HERE / "static")), name="static")
    state = {"engine": engine}

    def db():
        if state["engine"] is None:
            from etl.warehouse import engine as warehouse_engine

            state["engine"] = warehouse_engine()
        return state["engine"]

    def max_upload_bytes() -> int:
        return load_settings().max_file_mb * 1024 * 1024  # IGA_MAX_FILE_MB, as the reader's limit

    # --- sessions, language, rendering ------------------------------------------------------

    def session(request: Request) -> web.Session:
        return request.state.session

    def current_user(request: Request):
        from etl.accounts import active_user

        s = session(request)
        if "uid" not in s:
            return None
        user = active_user(db(), s["uid"], s.get("epoch", -1))
        if user is None:  # disabled, or the password changed since: the session ends
            s.clear_user()
        return user

    def require_user(request: Request):
        user = current_user(request)
        if user is None:
            raise LoginRequired()
        return user

    def require_clerk(request: Request):
        user = require_user(request)
        if user.is_national:
            raise HTTPException(403)
        return user

    def require_national(request: Request):
        user = require_user(request)
        if not user.is_national:
            raise HTTPException(403)
        return user

    def require_province(request: Request, province_code: str):
        user = require_user(request)
        if not user.may_see(province_code):
            raise HTTPException(403)
        return user

    def language(request: Request, user=None) -> str:
        return session(request).get("lang") or (user.language if user else "fr")

    def check_csrf(request: Request, token: str | None) -> None:
        if not session(request).csrf_ok(token):
            raise HTTPException(403, "csrf")

    def render(request: Request, template: str, status_code: int = 200, user=None, **context) -> HTMLResponse:
        lang = language(request, user)

        def t(key: str, **params) -> str:
            return web.translate(lang, key, **params)

        context.update(request=request, user=user, lang=lang, dir="rtl" if lang == "ar" else "ltr", t=t,
                       csrf_token=session(request)["csrf"], path=request.url.path, poll_seconds=POLL_SECONDS)
        return templates.TemplateResponse(request, template, context, status_code=status_code)

    def download(path: Path | None, media_type: str, filename: str) -> Response:
        if path is None or not path.is_file():
            raise HTTPException(404)
        response = FileResponse(path, media_type=media_type,
                                headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})
        if media_type.startswith("text/html"):
            response.headers["Content-Security-Policy"] = web.REPORT_CSP
        return response

    def audit(request: Request, user, action: str, province_code=None, obj=None, detail=None) -> None:
        from etl.accounts import record

        record(db(), user, action, web.client_address(request), province_code, obj, detail)

    # --- errors: a page in the user's language, never a stack trace ---------------------------

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        key = {403: "error_403", 404: "error_404", 413: "error_413", 429: "error_429"}.get(exc.status_code,
                                                                                        "error_other")
        return render(request, "error.html", exc.status_code, message_key=key)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        return render(request, "error.html", 400, message_key="error_other")

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        incident = uuid.uuid4().hex[:8]
        log.error("portal incident %s on %s %s", incident, request.method, request.url.path, exc_info=exc)
        return render(request, "error.html", 500, message_key="error_500", incident=incident)

    # --- health, login, password, language ---------------------------------------------------

    @app.get("/healthz")
    def health():
        from etl.board import warehouse_ready

        ready = warehouse_ready(db())
        return JSONResponse({"status": "ok" if ready else "not migrated"}, status_code=200 if ready else 503)

    @app.get("/", response_class=HTMLResponse)
    def root(request: Request):
        user = require_user(request)
        return RedirectResponse("/board" if user.is_national else "/home", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/"):
        return render(request, "login.html", next=web.local_path(next))

    @app.post("/login", response_class=HTMLResponse)
    def login(request: Request, email: str = Form(""), password: str = Form(""), next: str = Form("/"),
              csrf_token: str = Form("")):
        from etl.accounts import LoginRefused, LoginThrottled, authenticate, set_language

        check_csrf(request, csrf_token)
        try:
            user = authenticate(db(), email, password, web.client_address(request))
        except LoginThrottled:
            return render(request, "login.html", 429, next=web.local_path(next), error="login_throttled", email=email)
        except LoginRefused:
            return render(request, "login.html", 401, next=web.local_path(next), error="login_refused", email=email)
        s = session(request)
        s.clear_user()
        s.set(uid=user.user_id, epoch=user.session_epoch)
        if "lang" in s:
            set_language(db(), user, s["lang"])
        else:
            s.set(lang=user.language)
        return RedirectResponse(web.local_path(next), status_code=303)

    @app.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")):
        from etl.accounts import log_out

        check_csrf(request, csrf_token)
        user = current_user(request)
        if user is not None:
            log_out(db(), user, web.client_address(request))
        session(request).clear_user()
        return RedirectResponse("/login", status_code=303)

    @app.get("/password/{token}", response_class=HTMLResponse)
    def password_form(request: Request, token: str):
        from etl.accounts import token_email

        email = token_email(db(), token)
        return render(request, "password.html", 200 if email else 404, email=email, token=token)

    @app.post("/password/{token}", response_class=HTMLResponse)
    def password_set(request: Request, token: str, password: str = Form(""), confirm: str = Form(""),
                     csrf_token: str = Form("")):
        from etl.accounts import AccountError, set_password, token_email

        check_csrf(request, csrf_token)
        email = token_email(db(), token)
        if email and password != confirm:
            return render(request, "password.html", 400, email=email, token=token, error="password_mismatch")
        try:
            user = set_password(db(), token, password, web.client_address(request))
        except AccountError:
            return render(request, "password.html", 400, email=email, token=token, error="password_short")
        if user is None:
            return render(request, "password.html", 404, email=None, token=token)
        s = session(request)
        s.clear_user()
        s.set(uid=user.user_id, epoch=user.session_epoch, lang=s.get("lang") or user.language)
        return RedirectResponse("/", status_code=303)

    @app.post("/language")
    def choose_language(request: Request, lang: str = Form("fr"), next: str = Form("/"), csrf_token: str = Form("")):
        from etl.accounts import set_language

        check_csrf(request, csrf_token)
        if lang in web.LANGUAGES:
            session(request).set(lang=lang)
            user = current_user(request)
            if user is not None:
                set_language(db(), user, lang)
        return RedirectResponse(web.local_path(next), status_code=303)

    # --- the clerk ------------------------------------------------------------------------------

    @app.get("/home", response_class=HTMLResponse)
    def clerk_home(request: Request):
        from etl.board import clerk_overview

        user = require_clerk(request)
        return render(request, "home.html", user=user, max_mb=max_upload_bytes() // (1024 * 1024),
                      **clerk_overview(db(), user.province_code))

    @app.post("/uploads")
    async def upload(request: Request):
        from etl.uploads import discard_upload, dry_run, new_upload
        from portal.upload_stream import BadUpload, CsrfRejected, TooLarge, receive_upload

        user = await run_in_threadpool(require_clerk, request)
        limit = max_upload_bytes()
        opened: dict[str, object] = {}

        def open_path(name: str) -> Path:
            opened["upload_id"], opened["path"] = new_upload(settings, name)
            return opened["path"]

        try:
            received = await receive_upload(request, session(request)["csrf"], limit, open_path)
        except (TooLarge, CsrfRejected, BadUpload) as exc:
            if "path" in opened:
                discard_upload(opened["path"])
            await run_in_threadpool(audit, request, user, "upload_refused", user.province_code, None,
                                    type(exc).__name__)
            status = {TooLarge: 413, CsrfRejected: 403}.get(type(exc), 400)
            raise HTTPException(status) from None
        period = received.fields.get("period", "").strip()
        await run_in_threadpool(audit, request, user, "upload", user.province_code, opened["upload_id"],
                                f"{received.file_name} ({received.size} bytes) for {period}")
        await run_in_threadpool(dry_run, db(), settings, user, opened["upload_id"], received.path,
                                received.file_name, period, web.client_address(request))
        return RedirectResponse(f"/uploads/{opened['upload_id']}", status_code=303)

    def visible_upload(request: Request, upload_id: str):
        from etl.uploads import upload_record

        user = require_user(request)
        upload = upload_record(db(), user, upload_id)
        if upload is None:
            raise HTTPException(403)  # unknown or another province's: the same answer
        return user, upload

    @app.get("/uploads/{upload_id}", response_class=HTMLResponse)
    def upload_page(request: Request, upload_id: str):
        from etl.uploads import stage, upload_files, what_to_fix_first

        user, upload = visible_upload(request, upload_id)
        files = upload_files(settings, upload)
        return render(request, "upload.html", user=user, upload=upload, stage=stage(settings, upload),
                      fix=what_to_fix_first(files.findings), outcome=request.query_params.get("outcome"))

    @app.get("/uploads/{upload_id}/status.json")
    def upload_status(request: Request, upload_id: str):
        from etl.uploads import stage

        _, upload = visible_upload(request, upload_id)
        return {"stage": stage(settings, upload), "submission_id": upload["submission_id"]}

    @app.get("/uploads/{upload_id}/report.{kind}")
    def upload_report(request: Request, upload_id: str, kind: str):
        from etl.uploads import upload_files

        user, upload = visible_upload(request, upload_id)
        files = upload_files(settings, upload)
        stem = Path(upload["stored_name"]).stem
        if kind == "html":
            path, media, name = files.report_html, "text/html; charset=utf-8", f"rapport-{stem}.html"
        elif kind == "xlsx":
            path, media, name = files.report_xlsx, XLSX, f"anomalies-{stem}.xlsx"
        else:
            raise HTTPException(404)
        audit(request, user, "download", upload["province_code"], upload_id, name)
        return download(path, media, name)

    @app.post("/uploads/{upload_id}/submit")
    def submit(request: Request, upload_id: str, confirm: str = Form(""), csrf_token: str = Form("")):
        from etl.uploads import submit as submit_upload

        check_csrf(request, csrf_token)
        user, upload = visible_upload(request, upload_id)
        if user.is_national:
            raise HTTPException(403)
        result = submit_upload(db(), settings, user, upload, confirm == "yes", web.client_address(request))
        return RedirectResponse(f"/uploads/{upload_id}?outcome={result['outcome']}", status_code=303)

    # --- the national coordination (and a clerk for their own province) ----------------------

    @app.get("/board", response_class=HTMLResponse)
    def board(request: Request, period: str | None = None):
        from etl.board import completeness_board

        user = require_national(request)
        return render(request, "board.html", user=user, **completeness_board(db(), period))

    @app.get("/figures", response_class=HTMLResponse)
    def figures(request: Request):
        from etl.board import national_figures

        user = require_national(request)
        return render(request, "figures.html", user=user, **national_figures(db(), settings))

    @app.get("/published/{name}")
    def published(request: Request, name: str):
        from etl.board import published_file

        user = require_national(request)
        path = published_file(settings, name)
        audit(request, user, "download", None, name)
        media = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8", "xlsx": XLSX,
                 "json": "application/json", "png": "image/png"}.get(name.rsplit(".", 1)[-1],
                                                                     "application/octet-stream")
        return download(path, media, name)

    @app.get("/provinces/{province_code}", response_class=HTMLResponse)
    def province(request: Request, province_code: str):
        from etl.board import province_overview

        user = require_province(request, province_code)
        overview = province_overview(db(), province_code)
        if overview is None:
            raise HTTPException(404)
        return render(request, "province.html", user=user, **overview)

    @app.get("/provinces/{province_code}/projects/{project_code:path}", response_class=HTMLResponse)
    def project(request: Request, province_code: str, project_code: str):
        from etl.board import project_history

        user = require_province(request, province_code)
        history = project_history(db(), province_code, project_code)
        if history is None:
            raise HTTPException(404)
        return render(request, "project.html", user=user, **history)

    def visible_submission(request: Request, submission_id: int):
        from etl.board import submission_detail

        user = require_user(request)
        detail = submission_detail(db(), submission_id)
        if detail is None or not user.may_see(detail["submission"]["province_code"]):
            raise HTTPException(403 if not user.is_national else 404)
        return user, detail

    @app.get("/submissions/{submission_id}", response_class=HTMLResponse)
    def submission(request: Request, submission_id: int):
        user, detail = visible_submission(request, submission_id)
        return render(request, "submission.html", user=user, **detail)

    @app.get("/submissions/{submission_id}/report.{kind}")
    def submission_report(request: Request, submission_id: int, kind: str):
        user, detail = visible_submission(request, submission_id)
        folder = settings.reports / detail["submission"]["province_code"]
        if kind == "html":
            path, media = folder / f"submission-{submission_id}.html", "text/html; charset=utf-8"
        elif kind == "xlsx":
            path, media = folder / f"submission-{submission_id}-anomalies.xlsx", XLSX
        else:
            raise HTTPException(404)
        audit(request, user, "download", detail["submission"]["province_code"], submission_id, path.name)
        return download(path, media, path.name)

    # Outermost, so that error pages (even a 500) get the session and the security headers too.
    return web.PortalMiddleware(app, settings)

