"""The Celery workers' configuration (``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=etl.celery_config.CELERY_CONFIG``).

Airflow's own defaults, unchanged; importing this module also asks the Celery worker's main process
to run :func:`etl.executor.preload` when it imports its modules, before it forks its prefork pool:
every pool process, and every task process the Airflow supervisor forks from one, then starts with
Great Expectations, pandas and the pipeline imported (see :mod:`etl.executor`). The scheduler and
the API server import this module too (to send tasks); the signal is a worker's only.
"""
from __future__ import annotations

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery.signals import import_modules

CELERY_CONFIG = dict(DEFAULT_CELERY_CONFIG)


@import_modules.connect
def _preload(*args, **kwargs) -> None:
    from etl.executor import preload

    preload()
