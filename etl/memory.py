"""What a process that examines files keeps of its memory: set once, before the heavy imports.

Two settings, measured on the 100,000-row workbook of ``make bench`` (peak RSS of the whole
process, imports included; README, "Measured"):

- Great Expectations imports, with every expectation it registers, ``scipy.stats`` and ``altair``
  (91 MB resident together) for the three expectations that use them (KL divergence, the KS-test
  metrics), which no suite of ours names. Those two modules are deferred with the standard
  library's :class:`importlib.util.LazyLoader`: the module exists and executes on the first use of
  one of its names, so an expectation that needs them still works, at its own cost.
- Arrow's buffers are allocated by the system allocator (``malloc``) rather than Arrow's default
  mimalloc pool, which kept ~20 MB of freed buffers of the column-wise reading for reuse after
  the rows were built: with ``malloc``, Python's and the Rust readers' allocations reuse that space.
"""
from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

# Imported by GX at its own import, used by none of the expectations of expectations/*.json.
DEFERRED_MODULES = frozenset({"scipy.stats", "altair"})


class _DeferredImports(importlib.abc.MetaPathFinder):
    """Finds :data:`DEFERRED_MODULES` as the path finder would, with a loader that runs the module
    at its first attribute access instead of at its import."""

    def find_spec(self, name, path, target=None):
        if name not in DEFERRED_MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec  # not found, or not plain Python (LazyLoader needs exec_module): as usual
        spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


@functools.cache
def settle() -> None:
    """Defer GX's unused heavy modules and give Arrow the system allocator (once per process;
    inherited by forked children). Call before the first import of Great Expectations."""
    if not any(isinstance(finder, _DeferredImports) for finder in sys.meta_path):
        sys.meta_path.insert(0, _DeferredImports())
    if "pyarrow" not in sys.modules:
        # Read when pyarrow loads: mimalloc then never starts (it holds ~8 MB once it has).
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    import pyarrow

    if pyarrow.default_memory_pool().backend_name == "mimalloc":  # pyarrow was loaded before
        pyarrow.set_memory_pool(pyarrow.system_memory_pool())
