"""The portal's accounts: who may log in, for which province, and what they did (``portal`` schema).

A clerk belongs to one province; a national account (no province) sees every province. Passwords
are hashed with argon2id (memory-hard) and never stored, logged or printed: an account is created
without one and ``iga portal user add`` prints a one-time link (valid 72 hours) where its owner
chooses it. Failed logins are counted per address and per e-mail in the warehouse, so the
throttle holds across processes and restarts.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from etl.config import SQL_DIR
from etl.errors import EXIT_DATA_ERRORS, IgaError

TOKEN_LIFETIME = dt.timedelta(hours=72)
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5   # in THROTTLE_WINDOW, then that account's logins wait
MAX_FAILURES_PER_ADDRESS = 20  # in THROTTLE_WINDOW, then that address's logins wait
MIN_PASSWORD_LENGTH = 10
DEMO_ACCOUNTS = (("clerk.taounate@demo.indh.ma", "MA-TAO"), ("national@demo.indh.ma", None))


class AccountError(IgaError, ValueError):
    """An account operation that cannot be done as asked (unknown province, duplicate e-mail…)."""

    exit_code = EXIT_DATA_ERRORS


class LoginRefused(IgaError):
    """Wrong e-mail or password, or a disabled account (the page does not say which)."""


class LoginThrottled(IgaError):
    """Too many failed attempts recently for this e-mail or address."""


@dataclass(frozen=True)
class User:
    user_id: int
    email: str
    province_code: str | None
    language: str
    session_epoch: int

    @property
    def is_national(self) -> bool:
        return self.province_code is None

    def may_see(self, province_code: str | None) -> bool:
        return self.is_national or (province_code is not None and province_code == self.province_code)


def _sql(name: str) -> str:
    return (SQL_DIR / "portal" / name).read_text(encoding="utf-8")


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, 64 MiB, 3 passes (RFC 9106's second recommendation)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or len(email) > 254:
        raise AccountError(f"not an e-mail address: {email!r}")
    return email


def _user(row) -> User:
    return User(row.user_id, row.email, row.province_code, row.language, row.session_epoch)


def _new_token(conn, user_id: int) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(text("INSERT INTO portal.password_token (token_sha256, user_id, expires_at) "
                      "VALUES (:h, :u, clock_timestamp() + :life)"),
                 {"h": _token_hash(token), "u": user_id, "life": TOKEN_LIFETIME})
    return token


def add_user(engine, email: str, province: str | None) -> str:
    """Create an account (``province`` None: national); returns its one-time password token.

    An account that exists but was disabled is re-enabled with a new link.
    """
    from etl import reference

    email = normalise_email(email)
    province_code = None
    if province is not None:
        province_code = reference.find_province(province)
        if province_code is None:
            raise AccountError(f"unknown province: {province!r} (an ISO 3166-2:MA code such as MA-TAO)")
    with engine.begin() as conn:
        existing = conn.execute(text("SELECT user_id, active, province_code FROM portal.user_account "
                                     "WHERE email = :e"), {"e": email}).first()
        if existing and existing.active:
            raise AccountError(f"{email} already has an account (iga portal user disable, then add again)")
        if existing:
            user_id = existing.user_id
            conn.execute(text("UPDATE portal.user_account SET active = true, disabled_at = NULL, "
                              "province_code = :p, password_hash = NULL, session_epoch = session_epoch + 1 "
                              "WHERE user_id = :u"), {"p": province_code, "u": user_id})
        else:
            user_id = conn.execute(text("INSERT INTO portal.user_account (email, province_code) "
                                        "VALUES (:e, :p) RETURNING user_id"),
                                   {"e": email, "p": province_code}).scalar_one()
        audit(conn, None, "user_add", None, province_code, email)
        return _new_token(conn, user_id)


def disable_user(engine, email: str) -> bool:
    """Disable an account: it cannot log in and its open sessions end. False if none is active."""
    email = normalise_email(email)
    with engine.begin() as conn:
        done = conn.execute(text(
            "UPDATE portal.user_account SET active = false, disabled_at = clock_timestamp(), "
            "session_epoch = session_epoch + 1 WHERE email = :e AND active RETURNING user_id, province_code"),
            {"e": email}).first()
        if done:
            conn.execute(text("UPDATE portal.password_token SET used_at = clock_timestamp() "
                              "WHERE user_id = :u AND used_at IS NULL"), {"u": done.user_id})
            audit(conn, None, "user_disable", None, done.province_code, email)
    return done is not None


def token_email(engine, token: str) -> str | None:
    """The e-mail a valid, unused password link belongs to; None otherwise."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT u.email FROM portal.password_token t JOIN portal.user_account u USING (user_id) "
            "WHERE t.token_sha256 = :h AND t.used_at IS NULL AND t.expires_at > clock_timestamp() "
            "AND u.active"), {"h": _token_hash(token)}).scalar()


def set_password(engine, token: str, password: str, address: str | None = None) -> User | None:
    """Use a one-time link: set the password (hashed) and end older sessions. None if the link is
    not valid; AccountError if the password is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"at least {MIN_PASSWORD_LENGTH} characters")
    password_hash = _hasher().hash(password)
    with engine.begin() as conn:
        row = conn.execute(text(
            "UPDATE portal.password_token t SET used_at = clock_timestamp() FROM portal.user_account u "
            "WHERE t.token_sha256 = :h AND t.used_at IS NULL AND t.expires_at > clock_timestamp() "
            "AND u.user_id = t.user_id AND u.active RETURNING t.user_id"), {"h": _token_hash(token)}).first()
        if row is None:
            return None
        user = conn.execute(text(
            "UPDATE portal.user_account SET password_hash = :p, session_epoch = session_epoch + 1 "
            "WHERE user_id = :u RETURNING user_id, email, province_code, language, session_epoch"),
            {"p": password_hash, "u": row.user_id}).one()
        audit(conn, _user(user), "password_set", address, user.province_code)
    return _user(user)


def authenticate(engine, email: str, password: str, address: str | None) -> User:
    """The account these credentials open; raises LoginThrottled or LoginRefused.

    The throttle is checked before any hashing; an unknown e-mail costs the same hash as a known one.
    """
    email = (email or "").strip().lower()[:254]
    with engine.begin() as conn:
        failures = conn.execute(text(_sql("login_failures.sql")),
                                {"e": email, "a": address, "window": THROTTLE_WINDOW}).one()
        if failures.by_email >= MAX_FAILURES_PER_EMAIL or failures.by_address >= MAX_FAILURES_PER_ADDRESS:
            audit(conn, None, "login_throttled", address, None, email)
            raise LoginThrottled(email)
        row = conn.execute(text("SELECT user_id, email, province_code, language, session_epoch, password_hash, "
                                "active FROM portal.user_account WHERE email = :e"), {"e": email}).first()
    ok = _verify(row.password_hash if row is not None and row.active else None, password)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO portal.login_attempt (email, address, succeeded) VALUES (:e, :a, :s)"),
                     {"e": email, "a": address, "s": ok})
        audit(conn, _user(row) if ok else None, "login" if ok else "login_failed", address,
              row.province_code if ok else None, None if ok else email)
    if not ok:
        raise LoginRefused(email)
    return _user(row)


_DUMMY_HASH: list[str] = []


def _verify(password_hash: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    if password_hash is None:  # same cost as a real check, so timing does not tell accounts apart
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hasher.hash(secrets.token_hex(16)))
        password_hash, password = _DUMMY_HASH[0], password + "\0never"
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def active_user(engine, user_id: int, session_epoch: int) -> User | None:
    """The account of a session, if it is still active and its password was not changed since."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT user_id, email, province_code, language, session_epoch "
                                "FROM portal.user_account WHERE user_id = :u AND active "
                                "AND session_epoch = :s AND password_hash IS NOT NULL"),
                           {"u": user_id, "s": session_epoch}).first()
    return _user(row) if row else None


def log_out(engine, user: User, address: str | None) -> None:
    """End every session of the account (a copied cookie stops working too)."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE portal.user_account SET session_epoch = session_epoch + 1 WHERE user_id = :u"),
                     {"u": user.user_id})
        audit(conn, user, "logout", address)


def set_language(engine, user: User, language: str) -> None:
    if language in ("fr", "ar"):
        with engine.begin() as conn:
            conn.execute(text("UPDATE portal.user_account SET language = :l WHERE user_id = :u"),
                         {"l": language, "u": user.user_id})


def audit(conn, user: User | None, action: str, address: str | None, province_code: str | None = None,
          obj: str | None = None, detail: str | None = None) -> None:
    """One line of the audit table, in the caller's transaction."""
    conn.execute(text(
        "INSERT INTO portal.audit (user_id, email, address, action, province_code, object, detail) "
        "VALUES (:u, :e, :a, :action, :p, :o, :d)"),
        {"u": user.user_id if user else None, "e": user.email if user else None, "a": address,
         "action": action, "p": province_code if province_code is not None else (user.province_code if user else None),
         "o": None if obj is None else str(obj)[:500], "d": detail})


def record(engine, user: User | None, action: str, address: str | None, province_code: str | None = None,
           obj: str | None = None, detail: str | None = None) -> None:
    """An audit line in its own transaction (downloads, logouts, page-level events)."""
    with engine.begin() as conn:
        audit(conn, user, action, address, province_code, obj, detail)


def ensure_demo_accounts(engine, folder: Path) -> list[tuple[str, str, str | None]]:
    """The demo's Taounate clerk and national account, with passwords kept in ``folder`` (0600) so a
    second ``make demo`` prints the same logins; returns (email, password, province) triples."""
    logins_file = folder / "demo-logins.txt"
    known = {}
    if logins_file.exists():
        for line in logins_file.read_text(encoding="utf-8").splitlines():
            email, _, password = line.partition(" ")
            known[email] = password
    logins = []
    for email, province in DEMO_ACCOUNTS:
        password = known.get(email)
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT password_hash IS NOT NULL FROM portal.user_account "
                                       "WHERE email = :e AND active"), {"e": email}).scalar()
        if not exists or password is None:
            if exists is not None:
                disable_user(engine, email)
            password = secrets.token_urlsafe(12)
            set_password(engine, add_user(engine, email, province), password)
        logins.append((email, password, province))
    folder.mkdir(parents=True, exist_ok=True)
    partial = logins_file.with_name(logins_file.name + ".part")
    partial.touch(mode=0o600)
    partial.write_text("".join(f"{email} {password}\n" for email, password, _ in logins), encoding="utf-8")
    partial.replace(logins_file)
    return logins


def list_users(engine) -> list[tuple[str, str | None, bool, bool]]:
    """(email, province or None, active, has a password) of every account."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT email, province_code, active, password_hash IS NOT NULL FROM portal.user_account "
            "ORDER BY province_code NULLS FIRST, email"))]
