"""Great Expectations 1.24's metric ids, computed without its general-purpose JSON converter.

Every metric GX resolves is named by ``IDDict.to_id``: the MD5 of the JSON of its keyword
arguments after ``convert_to_json_serializable``, a converter for any object (pydantic models,
numpy and pandas values, Spark frames, SQLAlchemy rows) that tries a dozen ``isinstance`` checks
per value. A validation of one provincial file builds about 800 metric configurations, two ids
each: a quarter of the time GX spends on a file of a few hundred rows. The keyword arguments are
almost always plain (texts, numbers, None, lists and dicts of those), for which the converter
returns what it was given, as JSON writes it: those go to JSON directly; anything else (a NaN, a
key that is not a text, any other type) goes through GX's converter first, so the id is the same.
Installed only for the version the code was read from (``GX_VERSION``); ``tests/test_gx_ids.py``
compares both on every id a validation of the suite asks for, and on drawn values.
"""
from __future__ import annotations

import hashlib
import json

GX_VERSION = "1.24.1"
ORIGINAL: dict = {}


def _plain(value) -> bool:
    """Whether ``convert_to_json_serializable`` would leave ``value`` as JSON already writes it:
    texts, whole numbers, true/false, None, floats but NaN (which it makes None), lists and tuples
    of those (a tuple is written as a list either way) and dicts of those with text keys."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return value == value
    if kind is list or kind is tuple:
        return all(_plain(item) for item in value)
    if kind in _DICTS:
        return all(type(key) is str and _plain(item) for key, item in value.items())
    return False


_DICTS: tuple = (dict,)


def to_id(self, id_keys=None, id_ignore_keys=None):
    """``IDDict.to_id`` of GX 1.24.1, the same id, skipping GX's converter for plain keywords."""
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
    if not _plain(chosen):
        from great_expectations.util import convert_to_json_serializable

        chosen = convert_to_json_serializable(data=chosen)
    return hashlib.md5(json.dumps(chosen, sort_keys=True).encode("utf-8"), usedforsecurity=False).hexdigest()


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
