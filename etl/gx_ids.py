"""Great Expectations 1.24's metric ids, computed without its general-purpose JSON converter.

Every metric GX resolves is named by ``IDDict.to_id``: the MD5 of the JSON of its keyword
arguments after ``convert_to_json_serializable``, a converter for any object (pydantic models,
numpy and pandas values, Spark frames, SQLAlchemy rows) that tries a dozen ``isinstance`` checks
per value. A validation of one provincial file builds about 800 metric configurations, two ids
each: a quarter of the time GX spends on a file of a few hundred rows. The keyword arguments are
almost always plain (texts, numbers, None, lists and dicts of those), for which the converter
returns what it was given (a float NaN as None, a tuple as a list, keys as texts): those are
converted here directly; anything else goes through GX's converter, so the id is the same. Installed
only for the version the code was read from (``GX_VERSION``); ``tests/test_gx_ids.py`` compares both
on every id a validation of the suite asks for, and on drawn values.
"""
from __future__ import annotations

import hashlib
import json

GX_VERSION = "1.24.1"
ORIGINAL: dict = {}


class _NotPlain(Exception):
    """A value GX's converter must see (numpy, pandas, pydantic, an Enum, a set ...)."""


def _plain(value):
    """``convert_to_json_serializable(value)`` for plain values; raises :class:`_NotPlain` otherwise."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return None if value != value else value
    if kind is list or kind is tuple:
        return [_plain(item) for item in value]
    if isinstance(value, dict) and kind in _DICTS:
        return {str(key): _plain(item) for key, item in value.items()}
    raise _NotPlain


_DICTS: tuple = (dict,)


def to_id(self, id_keys=None, id_ignore_keys=None):
    """``IDDict.to_id`` of GX 1.24.1, the same id, with :func:`_plain` in front of GX's converter."""
    if id_keys is None:
        id_keys = self.keys()
    if id_ignore_keys is None:
        id_ignore_keys = self._id_ignore_keys
    id_keys = set(id_keys) - set(id_ignore_keys)
    if len(id_keys) == 0:
        return ()
    if len(id_keys) == 1:
        key = list(id_keys)[0]
        return f"{key}={self[key]!s}"
    chosen = {k: self[k] for k in id_keys}
    try:
        converted = _plain(chosen)
    except _NotPlain:
        from great_expectations.util import convert_to_json_serializable

        converted = convert_to_json_serializable(data=chosen)
    return hashlib.md5(json.dumps(converted, sort_keys=True).encode("utf-8"), usedforsecurity=False).hexdigest()


def install() -> bool:
    """Put :func:`to_id` on ``IDDict`` (once); False, and GX's left, on another GX version."""
    global _DICTS
    import great_expectations
    from great_expectations.core.id_dict import IDDict

    if great_expectations.__version__ != GX_VERSION:
        return False
    ORIGINAL.setdefault("to_id", IDDict.__dict__["to_id"])
    _DICTS = (dict, IDDict)
    IDDict.to_id = to_id
    return True
