"""What the portal's tests share: a portal on a fresh warehouse, accounts, logged-in clients."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def clerk_file(folder: Path, name: str = "situation_agr.xlsx", rows: int = 20, errors: int = 2,
               seed: int = 5, province: str = "MA-TAO", period: str = "2013") -> tuple[Path, list[int]]:
    """A province workbook the way clerks write them, with ``errors`` wrong rows; returns the path
    and the Excel rows that must be refused."""
    from etl.sample import write_province_file

    path = folder / name
    _, wrong = write_province_file(path, province, period, rows, random.Random(seed), errors)
    return path, wrong


@dataclass
class Portal:
    app: object
    engine: object
    settings: object

    def client(self):
        from fastapi.testclient import TestClient

        return TestClient(self.app, raise_server_exceptions=False, follow_redirects=False)

    def account(self, email: str, province: str | None, password: str = "correct horse battery") -> str:
        from etl.accounts import add_user, set_password

        set_password(self.engine, add_user(self.engine, email, province), password)
        return password

    def login(self, email: str, password: str, client=None):
        client = client or self.client()
        token = csrf_of(client.get("/login").text)
        response = client.post("/login", data={"email": email, "password": password, "csrf_token": token,
                                               "next": "/"})
        assert response.status_code == 303, response.text[-500:]
        return client

    def upload(self, client, path: Path, period: str = "2013", file_name: str | None = None):
        token = csrf_of(client.get("/home").text)
        with open(path, "rb") as f:
            return client.post("/uploads", data={"csrf_token": token, "period": period},
                               files={"file": (file_name or path.name, f, "application/octet-stream")})

    def submit(self, client, upload_url: str, confirm: bool = True):
        token = csrf_of(client.get(upload_url).text)
        data = {"csrf_token": token, **({"confirm": "yes"} if confirm else {})}
        return client.post(f"{upload_url}/submit", data=data)


def make_portal(warehouse_url: str) -> Portal:
    from etl.config import settings
    from etl.warehouse import engine
    from portal.app import create_app

    current = settings()
    return Portal(create_app(current, engine(warehouse_url)), engine(warehouse_url), current)
