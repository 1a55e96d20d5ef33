"""Names from outside (files and folders in the landing folder) as safe text.

A Linux folder holds any bytes: ``os.fsdecode`` gives surrogates that fail when encoded to UTF-8
(JSON, XCom, PostgreSQL text, mail headers). :func:`name_problem` says why a name cannot be used;
:func:`safe_name` is the escaped form it is recorded and shown under.
"""
from __future__ import annotations

import hashlib
import os
import unicodedata

MAX_NAME_BYTES = 200  # per name; the archive never uses the clerk's name, the warehouse keeps it


def name_problem(name: str) -> tuple[str, str] | None:
    """Why a name from the folder cannot be used, in French and Arabic; None when it can."""
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "nom qui n'est pas en UTF-8", "اسم ليس بترميز UTF-8"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "caractère de contrôle dans le nom", "حرف تحكم في الاسم"
    if len(encoded) > MAX_NAME_BYTES:
        return f"nom de {len(encoded)} octets", f"اسم من {len(encoded)} بايت"
    return None


def safe_name(name: str) -> str:
    """A name as printable UTF-8 text: undecodable bytes and control characters escaped
    (``\\xe9``), a name too long cut with a digest of the whole, so two names never merge."""
    raw = os.fsencode(name)
    escaped = "".join(f"\\x{ord(ch):02x}" if unicodedata.category(ch) == "Cc" else ch
                      for ch in raw.decode("utf-8", "backslashreplace"))
    if len(escaped.encode("utf-8")) > MAX_NAME_BYTES:
        digest = hashlib.sha256(raw).hexdigest()[:12]
        escaped = escaped.encode("utf-8")[:MAX_NAME_BYTES - 16].decode("utf-8", "ignore") + "…" + digest
    return escaped
