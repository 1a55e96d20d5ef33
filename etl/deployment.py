"""What ``airflow-init`` checks before a production deployment starts (``iga deploy check``).

The example values of ``.env.example`` work, and that is the danger: a ``change-me`` JWT secret
makes API tokens forgeable, a known Fernet key decrypts every stored connection. So the first thing
the init container runs refuses to go on while any secret is a ``change-me`` value or too short, or
while mail would go to a real relay without TLS. Messages name the ``.env`` setting to fix, never
its value.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

PLACEHOLDER = "change-me"
MIN_PASSWORD = 16
MIN_KEY = 32
MAILPIT_HOST = "mailpit"  # the bundled catcher: the only SMTP host allowed without TLS


@dataclass(frozen=True)
class Secret:
    env_file_name: str  # the setting in .env
    variable: str  # where the container sees it
    part: str = "value"  # "value", or "password" of the URL in the variable
    minimum: int = MIN_PASSWORD


SECRETS = (
    Secret("POSTGRES_PASSWORD", "POSTGRES_PASSWORD"),
    Secret("IGA_DB_PASSWORD", "IGA_WAREHOUSE_URL", "password"),
    Secret("AIRFLOW_DB_PASSWORD", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "password"),
    Secret("REDIS_PASSWORD", "AIRFLOW__CELERY__BROKER_URL", "password"),
    Secret("AIRFLOW_FERNET_KEY", "AIRFLOW__CORE__FERNET_KEY", "fernet"),
    Secret("AIRFLOW_API_SECRET_KEY", "AIRFLOW__API__SECRET_KEY", minimum=MIN_KEY),
    Secret("AIRFLOW_JWT_SECRET", "AIRFLOW__API_AUTH__JWT_SECRET", minimum=MIN_KEY),
    Secret("AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_ADMIN_PASSWORD"),
    Secret("PORTAL_SECRET_KEY", "PORTAL_SECRET_KEY", minimum=MIN_KEY),  # signs the portal's cookies
)


def _url_password(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(url).password or "")


def _valid_fernet_key(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode())) == 32
    except (binascii.Error, ValueError):
        return False


def secret_problems(env: dict[str, str]) -> list[str]:
    """One line per weak or missing secret, naming its .env setting (never the value)."""
    problems = []
    for secret in SECRETS:
        raw = env.get(secret.variable, "")
        value = _url_password(raw) if secret.part == "password" else raw
        if not value:
            problems.append(f"{secret.env_file_name} is empty")
        elif PLACEHOLDER in value.lower():
            problems.append(f"{secret.env_file_name} is still the example's {PLACEHOLDER} value")
        elif secret.part == "fernet":
            if not _valid_fernet_key(value):
                problems.append(f"{secret.env_file_name} is not a Fernet key (32 url-safe base64 bytes)")
        elif len(value) < secret.minimum:
            problems.append(f"{secret.env_file_name} is shorter than {secret.minimum} characters")
    return problems


def smtp_problems(env: dict[str, str]) -> list[str]:
    """A real relay must be reached over TLS (STARTTLS or SSL); only the bundled mailpit may not."""
    raw = env.get("AIRFLOW_CONN_IGA_SMTP")
    if not raw:
        return []
    try:
        connection = json.loads(raw)
    except json.JSONDecodeError:
        return ["AIRFLOW_CONN_IGA_SMTP is not valid JSON (check IGA_SMTP_* in .env: no \" or \\ in them)"]
    extra = connection.get("extra") or {}
    without_tls = extra.get("disable_tls") is True and extra.get("disable_ssl") is True
    if without_tls and connection.get("host") != MAILPIT_HOST:
        return [f"IGA_SMTP_HOST {connection.get('host')!r} is a real relay but IGA_SMTP_DISABLE_TLS and "
                f"IGA_SMTP_DISABLE_SSL are both true: mail (reports, personal data) would travel in clear. "
                f"Set IGA_SMTP_DISABLE_TLS=false (STARTTLS, port 587) or IGA_SMTP_DISABLE_SSL=false (port 465)"]
    return []


def deployment_problems(env: dict[str, str]) -> list[str]:
    return secret_problems(env) + smtp_problems(env)
