"""Task processes that start with Great Expectations, pandas and the pipeline already imported.

Airflow 3.3 runs every task in a process that its supervisor ``os.fork()``s (no exec on Linux:
``ActivitySubprocess.start`` in ``airflow/sdk/execution_time/supervisor.py``) from the executor's
worker process, which itself is forked from the scheduler (LocalExecutor, ``fork`` start method)
or from the Celery worker's main process (prefork pool). Whatever that process imported, each task
process has from its first instruction, copy-on-write. Without this, every mapped ``ingest_file``
task spent about 3 s (idle machine) importing GX and pandas to read one small file.

- :class:`PreloadingLocalExecutor` (``AIRFLOW__CORE__EXECUTOR=etl.executor.PreloadingLocalExecutor``,
  what ``iga airflow`` runs): :func:`preload` once in the scheduler before it forks its workers.
- ``etl.celery_config.CELERY_CONFIG`` (``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS``): the same in the
  Celery worker's main process before it forks its pool.

Isolation is unchanged: each task is still its own process forked afresh (a task that crashes
ends only itself), and each file is still examined in its own capped child (:mod:`etl.isolate`).
What changes: the pipeline's code, the suite and the reference tables are read when the scheduler
(or Celery worker) starts, so a change to them takes effect when it is restarted (the DAG files
themselves are still parsed by each task).
"""
from __future__ import annotations

import logging
import os
import time

from airflow.executors.local_executor import LocalExecutor

log = logging.getLogger(__name__)
PRELOADED = "_IGA_PRELOADED_BY"  # internal, not a setting: the pid that imported the pipeline


def preload() -> float:
    """Import what the DAGs' tasks need (GX context and suite, pandas, the readers, the loader,
    the reports) and what every task process runs first; returns the seconds it took."""
    started = time.perf_counter()
    from etl.isolate import prepare_to_fork

    prepare_to_fork()  # pandas, GX and the suite: the heavy part
    import airflow.providers.standard.operators.python  # noqa: F401 - what @task runs
    import airflow.sdk.execution_time.task_runner  # noqa: F401 - each task process's entry point

    import etl.ingest  # noqa: F401
    import etl.migrate  # noqa: F401
    import etl.publish  # noqa: F401

    os.environ[PRELOADED] = str(os.getpid())  # inherited by the task processes: what they started from
    seconds = time.perf_counter() - started
    log.info("iga: preloaded the pipeline's imports for the task processes in %.1f s", seconds)
    return seconds


class PreloadingLocalExecutor(LocalExecutor):
    """The LocalExecutor, whose workers (and so every task process) start with :func:`preload` done.

    With the ``fork`` start method (Linux's default up to Python 3.13, and what Airflow's image
    runs) the workers are forked from the scheduler when the executor starts: :func:`preload` runs
    once there, and the workers and task processes share those pages. With ``spawn`` or
    ``forkserver`` (``[core] mp_start_method``) nothing is inherited: it says so and preloads nothing.
    """

    def start(self) -> None:
        if self.is_mp_using_fork:
            preload()
        else:
            import multiprocessing

            log.warning("iga: multiprocessing start method %r, not fork: each task process imports the "
                        "pipeline itself (about 3 s a task)", multiprocessing.get_start_method())
        super().start()
