"""Files and folders only this user can read: secrets (passwords, passfiles) and what holds them.

Created with their final mode (``os.open`` with 0600, ``chmod`` 0700 on folders), so there is no
moment when a secret is readable by others, whatever the umask.
"""
from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: Path) -> Path:
    """A folder only this user can enter (0700), created if needed, with its missing parents."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_secret(path: Path, text: str) -> Path:
    """Write a file only this user can read (0600 from its creation, never briefly wider). Its folder
    is created if missing but keeps its mode (the state folder must stay reachable by the embedded
    server's own account when it runs as root)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "w", encoding="utf-8") as f:
        f.write(text)
    path.chmod(0o600)  # an existing file keeps its mode through O_CREAT
    return path
