"""The provinces' portal under `make bench`: the real server (`iga portal`, uvicorn) in its own
process on a free loopback port, a fresh warehouse, clerks as HTTP clients.

- Dry run of a 2,000-row provincial file: seconds from the start of the upload to the findings
  page received (POST /uploads, then GET of the page it redirects to), median of several; the
  floor is ``examine()`` of the same file in this process (the examination alone, warm).
- 20 clerks of 20 provinces at once, each logging in, uploading its own file, reading its dry run
  and submitting: every answer must be right and every file must be in the landing folder with
  its bytes (no error, no lost file).

    python -m bench.run --only portal   # this case alone, merged into bench/results.json and the README
"""
from __future__ import annotations

import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "bench password 2013"


def _csrf(html: str) -> str:
    return CSRF.search(html).group(1)


def _clerk_file(folder: Path, province: str, rows: int, seed: int) -> Path:
    from etl.sample import write_province_file

    path = folder / f"situation_agr_{province[3:].lower()}_{rows}.xlsx"
    write_province_file(path, province, "2013", rows, random.Random(seed), 2)
    return path


class PortalProcess:
    """``iga portal`` on a free port with its own state folder and warehouse; stopped on exit."""

    def __init__(self, home: Path, warehouse_url: str):
        from etl.operate import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "IGA_HOME": str(home), "IGA_LANDING": str(home / "landing"),
               "IGA_WAREHOUSE_URL": warehouse_url}
        env.pop("IGA_AIRFLOW_API_URL", None)
        self.process = subprocess.Popen([sys.executable, "-m", "etl.cli", "portal", "--port", str(self.port)],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def __enter__(self):
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"iga portal exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("iga portal did not answer in 120 s")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _login(base: str, email: str):
    import httpx

    client = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
    token = _csrf(client.get("/login").text)
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303, answer.status_code
    return client


def _upload_and_read(client, path: Path) -> tuple[float, str, str]:
    """(seconds from upload start to the findings page, the page's URL, the page)."""
    token = _csrf(client.get("/home").text)
    started = time.perf_counter()
    with open(path, "rb") as f:
        answer = client.post("/uploads", data={"csrf_token": token, "period": "2013"}, files={"file": (path.name, f)})
    assert answer.status_code == 303, (answer.status_code, answer.text[-500:])
    page = client.get(answer.headers["location"])
    seconds = time.perf_counter() - started
    assert page.status_code == 200 and 'class="finding"' in page.text
    return seconds, answer.headers["location"], page.text


def _clerk_session(base: str, email: str, path: Path) -> dict:
    """One clerk: log in, upload, read the dry run, submit with confirmation."""
    started = time.perf_counter()
    client = _login(base, email)
    dry_run_s, url, page = _upload_and_read(client, path)
    answer = client.post(f"{url}/submit", data={"csrf_token": _csrf(page), "confirm": "yes"})
    assert answer.status_code == 303 and answer.headers["location"].endswith("outcome=submitted"), answer.headers
    client.close()
    return {"dry_run_s": dry_run_s, "session_s": time.perf_counter() - started}


def case_portal(warehouse, repeat: int = 5, clerks: int = 20) -> dict:
    from sqlalchemy import create_engine, text

    from etl import reference
    from etl.accounts import add_user, set_password
    from etl.examine import examine
    from etl.migrate import migrate

    url = warehouse.fresh()
    engine = create_engine(url)
    migrate(engine)
    provinces = ["MA-TAO"] + [code for code in sorted(reference.provinces()) if code != "MA-TAO"][:clerks - 1]
    for code in provinces:
        set_password(engine, add_user(engine, f"clerk@{code.lower()}.bench", code), PASSWORD)
    with tempfile.TemporaryDirectory(prefix="iga-bench-portal-") as folder:
        home = Path(folder) / "home"
        big = _clerk_file(Path(folder), "MA-TAO", 2000, seed=2013)
        examine(big, "MA-TAO", "2013")  # warm this process too
        floor_s = statistics.median(_timed(lambda: examine(big, "MA-TAO", "2013")) for _ in range(repeat))
        files = {code: _clerk_file(Path(folder), code, 300, seed=i) for i, code in enumerate(provinces)}
        with PortalProcess(home, url) as portal:
            client = _login(portal.url, "clerk@ma-tao.bench")
            _upload_and_read(client, big)  # the server's first examination (its warm-up may still run)
            dry_runs = [_upload_and_read(client, big)[0] for _ in range(repeat)]
            client.close()
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=clerks) as pool:
                sessions = list(pool.map(lambda code: _clerk_session(portal.url, f"clerk@{code.lower()}.bench",
                                                                     files[code]), provinces))
            concurrent_s = time.perf_counter() - started
        landing = home / "landing"
        landed = {p.relative_to(landing).parts[0]: p for p in landing.rglob("*.xlsx")}
        lost = [code for code in provinces if code not in landed or landed[code].read_bytes() != files[code].read_bytes()]
        with engine.connect() as conn:
            submitted = conn.execute(text("SELECT count(*) FROM portal.upload WHERE submitted_at IS NOT NULL")).scalar()
    engine.dispose()
    assert not lost and submitted == clerks, (lost, submitted)
    return {
        "dry_run_rows": 2000, "repeat": repeat, "dry_run_s": statistics.median(dry_runs), "dry_run_runs_s": dry_runs,
        "examine_floor_s": floor_s,
        "clerks": clerks, "clerk_rows": 300, "concurrent_wall_s": concurrent_s,
        "concurrent_dry_run_median_s": statistics.median(s["dry_run_s"] for s in sessions),
        "concurrent_dry_run_max_s": max(s["dry_run_s"] for s in sessions),
        "concurrent_errors": 0, "files_lost": len(lost), "files_landed": len(landed),
    }


def _timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started
