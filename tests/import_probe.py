"""One import-purity probe for the DAG files and the portal: in a fresh interpreter with sockets
forbidden, run a baseline import (what every such module pays anyway), then the code under test,
and list the heavy modules the latter pulled in. A connection opened on the way fails the probe."""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = {"pandas", "great_expectations", "psycopg2", "python_calamine", "openpyxl", "pgserver", "numpy"}
PROBE = r"""
import json, socket, sys
what, baseline, load, heavy_roots = sys.argv[1], sys.argv[2], sys.argv[3], set(json.loads(sys.argv[4]))
def forbidden(*args, **kwargs):
    raise RuntimeError(what + " opened a network connection at import")
socket.socket.connect = forbidden
socket.create_connection = forbidden
exec(baseline)
before = set(sys.modules)
exec(load)
heavy = sorted(m for m in set(sys.modules) - before
               if m.split(".")[0] in heavy_roots or m.startswith("sqlalchemy.engine"))
print(json.dumps({"heavy": heavy}))
"""


def heavy_imports(what: str, baseline: str, load: str, env: dict, also_heavy: tuple[str, ...] = (),
                  cwd=None) -> list[str]:
    """The heavy modules ``load`` imports beyond ``baseline`` (run in a fresh interpreter)."""
    result = subprocess.run([sys.executable, "-c", PROBE, what, baseline, load, json.dumps(sorted(HEAVY | set(also_heavy)))],
                            capture_output=True, text=True, env=env, timeout=120, cwd=cwd)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])["heavy"]
