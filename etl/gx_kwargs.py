"""One configuration per call where Great Expectations 1.24 builds one per keyword.

``Expectation._get_domain_kwargs``, ``_get_success_kwargs``, ``_get_success_kwarg`` and
``_get_runtime_kwargs`` read ``self.configuration.kwargs`` inside a loop over the keys, and
``configuration`` is a property that rebuilds the whole configuration (a pydantic ``dict()``) each
time: about a hundred times per expectation per validation, the largest share of validating a
provincial file of a few hundred rows (75 files a national cycle). The methods below return the
same values, reading the keyword arguments once per call, from the expectation's fields without
the configuration object around them (:func:`configured_kwargs`). They replace GX's only for the
version whose code they were written from (``GX_VERSION``); ``tests/test_gx_kwargs.py`` compares
both on every expectation of the suite.
"""
from __future__ import annotations

GX_VERSION = "1.24.1"


def _kwarg(expectation, kwargs: dict, key: str, default=None):
    """``_get_success_kwarg`` on kwargs already read."""
    if key in kwargs:
        return kwargs[key]
    field = expectation.__fields__.get(key)
    if field is not None:
        return field.default if not field.required else default
    return ORIGINAL["_get_success_kwarg"](expectation, key, default)  # GX's warning, then the default


def _domain_kwargs(expectation, kwargs: dict) -> dict:
    return {key: kwargs.get(key, expectation._get_default_value(key)) for key in expectation.domain_keys}


def _success_kwargs(expectation, kwargs: dict) -> dict:
    success = {key: kwargs.get(key, expectation._get_default_value(key)) for key in expectation.success_keys}
    success.update(_domain_kwargs(expectation, kwargs))
    return success


# What ``Expectation.configuration`` takes out of the expectation's fields: the rest is its kwargs.
NOT_KWARGS = ("meta", "notes", "description", "severity", "id", "rendered_content")


def configured_kwargs(expectation) -> dict:
    """``expectation.configuration.kwargs``, without building the ``ExpectationConfiguration``
    around them (which checks that ``meta`` is JSON and names the type on every call)."""
    kwargs = expectation.dict(exclude_defaults=True)
    for key in NOT_KWARGS:
        kwargs.pop(key, None)
    return kwargs


def get_domain_kwargs(self) -> dict:
    return _domain_kwargs(self, configured_kwargs(self))


def get_success_kwargs(self) -> dict:
    return _success_kwargs(self, configured_kwargs(self))


def get_success_kwarg(self, key: str, default=None):
    return _kwarg(self, configured_kwargs(self), key, default)


def get_runtime_kwargs(self, runtime_configuration: dict | None = None) -> dict:
    from great_expectations.expectations.expectation import parse_result_format

    runtime_configuration = runtime_configuration or {}
    kwargs = configured_kwargs(self)
    runtime = {key: runtime_configuration.get(key, _kwarg(self, kwargs, key)) for key in self.runtime_keys}
    runtime.update(_success_kwargs(self, kwargs))
    runtime["result_format"] = parse_result_format(runtime["result_format"])
    return runtime


REPLACEMENTS = {"_get_domain_kwargs": get_domain_kwargs, "_get_success_kwargs": get_success_kwargs,
                "_get_success_kwarg": get_success_kwarg, "_get_runtime_kwargs": get_runtime_kwargs}
ORIGINAL: dict = {}


def install() -> bool:
    """Put the methods above on ``Expectation`` (once); False, and GX's left, on another GX version."""
    import great_expectations
    from great_expectations.expectations.expectation import Expectation

    if great_expectations.__version__ != GX_VERSION:
        return False
    for name, method in REPLACEMENTS.items():
        ORIGINAL.setdefault(name, Expectation.__dict__[name])
        setattr(Expectation, name, method)
    return True
