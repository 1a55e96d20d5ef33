"""The portal's web plumbing: signed session cookie, CSRF tokens, security headers, the page
language (French or Arabic, right to left) and rendering. No business logic here: that is in etl/."""
from __future__ import annotations

import csv
import functools
import hmac
import os
import secrets
from pathlib import Path

from etl.config import Settings

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "iga_session"
LANGUAGE_COOKIE = "iga_lang"
SESSION_MAX_AGE = 8 * 3600  # idle time after which a clerk logs in again
LANGUAGES = ("fr", "ar")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
# Downloaded reports are self-contained HTML with their own <style>, and no script at all.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


def secret_key(settings: Settings) -> str:
    """IGA_PORTAL_SECRET_KEY, or a key generated once in the state folder (mode 0600)."""
    if settings.portal_secret_key:
        return settings.portal_secret_key
    path = settings.portal_state / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".secret_key.{secrets.token_hex(4)}.part")
        partial.touch(mode=0o600)
        partial.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        try:
            os.link(partial, path)  # never replaces a key another process wrote
        except FileExistsError:  # another process made it first: use theirs
            pass
        finally:
            partial.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()


@functools.cache
def texts() -> dict[str, dict[str, str]]:
    """The portal's words in French and Arabic (portal/texts.csv: key,fr,ar)."""
    with open(HERE / "texts.csv", newline="", encoding="utf-8") as f:
        return {row["key"]: {"fr": row["fr"], "ar": row["ar"]} for row in csv.DictReader(f)}


def translate(lang: str, key: str, **params) -> str:
    entry = texts().get(key)
    if entry is None:
        return key
    value = entry.get(lang) or entry["fr"]
    return value.format(**params) if params else value


class Session(dict):
    """The signed cookie's content: csrf token, user id and session epoch. ``changed`` marks a
    session to send back."""

    changed = False

    def set(self, **values) -> None:
        self.update(values)
        self.changed = True

    def clear_user(self) -> None:
        for key in ("uid", "epoch"):
            self.pop(key, None)
        self["csrf"] = secrets.token_urlsafe(32)  # a new token after login or logout
        self.changed = True

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token).encode(), self.get("csrf", "").encode())


class PortalMiddleware:
    """Pure ASGI: loads the session from its signed cookie, and on the way out adds the security
    headers to every response and the session cookie when it changed (or is new)."""

    def __init__(self, app, settings: Settings):
        from itsdangerous import URLSafeTimedSerializer

        self.app = app
        self.settings = settings
        self.serializer = URLSafeTimedSerializer(secret_key(settings), salt="iga-portal-session")
        self.always_secure = settings.portal_url.startswith("https://")

    def _load(self, cookie_header: str) -> Session:
        from http.cookies import SimpleCookie

        from itsdangerous import BadSignature

        session = Session()
        try:
            jar = SimpleCookie(cookie_header)
        except Exception:  # a malformed Cookie header is simply no session
            jar = {}
        if SESSION_COOKIE in jar:
            try:
                loaded = self.serializer.loads(jar[SESSION_COOKIE].value, max_age=SESSION_MAX_AGE)
                if isinstance(loaded, dict):
                    session.update(loaded)
            except BadSignature:
                pass
        if LANGUAGE_COOKIE in jar and jar[LANGUAGE_COOKIE].value in LANGUAGES:
            session.setdefault("lang", jar[LANGUAGE_COOKIE].value)
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
            session.changed = True
        return session

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        session = self._load(headers.get("cookie", ""))
        scope.setdefault("state", {})["session"] = session
        secure = self.always_secure or scope.get("scheme") == "https"

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                out = list(message.get("headers", []))
                names = {k.lower() for k, _ in out}
                extra = {b"x-content-type-options": b"nosniff", b"referrer-policy": b"same-origin",
                         b"x-frame-options": b"DENY", b"cross-origin-opener-policy": b"same-origin"}
                if b"content-security-policy" not in names:
                    extra[b"content-security-policy"] = CSP.encode()
                if b"cache-control" not in names:
                    extra[b"cache-control"] = b"no-store"
                if secure:
                    extra[b"strict-transport-security"] = b"max-age=31536000"
                out += list(extra.items())
                if session.changed or scope.get("state", {}).get("refresh_session"):
                    value = self.serializer.dumps(dict(session))
                    attributes = f"; Path=/; Max-Age={SESSION_MAX_AGE}; HttpOnly; SameSite=Lax"
                    out.append((b"set-cookie", (f"{SESSION_COOKIE}={value}{attributes}"
                                                + ("; Secure" if secure else "")).encode()))
                lang = session.get("lang")
                if session.changed and lang in LANGUAGES:
                    out.append((b"set-cookie", (f"{LANGUAGE_COOKIE}={lang}; Path=/; Max-Age=31536000; "
                                                f"SameSite=Lax" + ("; Secure" if secure else "")).encode()))
                message = dict(message, headers=out)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def local_path(target: str | None, default: str = "/") -> str:
    """A redirect target that stays on this site (``/…`` but not ``//host``)."""
    target = target or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and "\n" not in target:
        return target
    return default


def client_address(request) -> str | None:
    return request.client.host if request.client else None


def count_filter(value) -> str:
    from etl.formatting import format_count

    return "—" if value is None else format_count(int(value))


def mad_filter(value) -> str:
    from etl.formatting import format_amount

    return "—" if value is None else format_amount(value)
