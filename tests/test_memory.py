"""etl/memory.py: GX's unused scipy.stats and altair wait for their first use, and still work then;
Arrow allocates with malloc. Checked in a fresh interpreter, where nothing imported them before."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys
from etl.validate import _validator

_validator()  # imports Great Expectations and every expectation it registers
state = {
    "pending": {name: type(sys.modules[name]).__name__ == "_LazyModule" for name in ("scipy.stats", "altair")},
    "scipy_stats_internals": any(name.startswith("scipy.stats._") for name in sys.modules),
    "arrow_pool": __import__("pyarrow").default_memory_pool().backend_name,
}
# The expectation that needs both: KL divergence of a column against a categorical partition.
import great_expectations as gx
import pandas as pd

context = gx.get_context(mode="ephemeral")
batch = (context.data_sources.add_pandas("probe").add_dataframe_asset("frame")
         .add_batch_definition_whole_dataframe("whole")
         .get_batch(batch_parameters={"dataframe": pd.DataFrame({"sector": ["a", "a", "b", "b"]})}))
result = batch.validate(gx.expectations.ExpectColumnKLDivergenceToBeLessThan(
    column="sector", partition_object={"values": ["a", "b"], "weights": [0.5, 0.5]}, threshold=0.1))
state["kl_success"] = result.success
state["kl_observed"] = result.result["observed_value"]
state["loaded_after_use"] = type(sys.modules["scipy.stats"]).__name__
print(json.dumps(state))
"""


def test_scipy_stats_and_altair_wait_for_their_first_use_and_work_then():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=REPO,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(REPO)}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["pending"] == {"scipy.stats": True, "altair": True}
    assert not state["scipy_stats_internals"]
    assert state["arrow_pool"] == "system"
    # Used by an expectation, the deferred modules load and compute: equal distributions, KL 0.
    assert state["kl_success"] is True
    assert state["kl_observed"] == 0.0
    assert state["loaded_after_use"] == "module"


def test_only_the_named_modules_are_deferred(monkeypatch):
    from etl import memory

    finder = memory._DeferredImports()
    assert finder.find_spec("json", None) is None
    spec = finder.find_spec("altair", None)
    assert type(spec.loader).__name__ == "LazyLoader"
