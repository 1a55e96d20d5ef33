"""etl/gx_ids.py: the metric ids of GX, computed with the plain-value converter, are GX's own ids."""
import datetime as dt
import decimal
import enum
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl import gx_ids
from etl.validate import _validator, validate_rows

pytestmark = pytest.mark.unit


class Colour(enum.Enum):
    RED = "red"


def ids_both_ways(kwargs: dict, id_keys=None, id_ignore_keys=None) -> tuple:
    from great_expectations.core.id_dict import IDDict

    _validator()
    data = IDDict(kwargs)
    return gx_ids.to_id(data, id_keys, id_ignore_keys), gx_ids.ORIGINAL["to_id"](data, id_keys, id_ignore_keys)


def test_every_id_a_validation_of_the_suite_asks_for_is_gx_own(monkeypatch):
    from great_expectations.core.id_dict import IDDict

    from etl.normalise import ProjectSheet

    _validator()
    asked = []

    def recording(self, id_keys=None, id_ignore_keys=None):
        ours = gx_ids.to_id(self, id_keys, id_ignore_keys)
        assert ours == gx_ids.ORIGINAL["to_id"](self, id_keys, id_ignore_keys), dict(self)
        if gx_ids._plain(dict(self)):
            asked.append(ours)  # computed without GX's converter
        return ours

    monkeypatch.setattr(IDDict, "to_id", recording)
    sheet = ProjectSheet("Projets", 1, {})
    sheet.rows = [{"excel_row": 2 + index, "project_code": f"P-{index % 3}", "province_code": "MA-TAO",
                   "approval_year": 2013 if index else None, "total_cost_mad": 100_000 * index,
                   "indh_contribution_mad": 90_000 * index, "promoter_contribution_mad": 5_000,
                   "partner_contribution_mad": None, "beneficiaries": index, "women": index + 1, "youth": 0,
                   "jobs_created": None} for index in range(6)]
    assert validate_rows([sheet], "2013")  # duplicated codes, a year missing, shares off policy
    assert len(asked) > 500 and len(set(asked)) > 20  # the plain path did the work


def test_the_id_is_gx_own_for_plain_and_other_values():
    cases = [
        {"column": "a", "batch_id": "b"},
        {"column": "a", "min_value": 1.5, "max_value": None, "strict_min": False},
        {"value_set": ["x", "y", 3], "mostly": 1.0, "nan": math.nan, "inf": math.inf},
        {"nested": {"a": (1, 2), 3: [None, {"b": True}]}, "k": "v"},
        {"numpy": __import__("numpy").int64(3), "k": "v"},
        {"when": dt.date(2024, 1, 2), "k": "v"},
        {"amount": decimal.Decimal("1.25"), "k": "v"},
        {"colour": Colour.RED, "k": "v"},
        {"set": {1, 2}, "k": "v"},
        {"one": 1},
        {},
    ]
    for kwargs in cases:
        ours, original = ids_both_ways(kwargs)
        assert ours == original, kwargs
    ours, original = ids_both_ways({"a": 1, "b": 2, "c": 3}, id_keys=["a", "b"], id_ignore_keys=["b"])
    assert ours == original == "a=1"


plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=3) | st.integers() | st.booleans() | st.none(), children, max_size=3),
    max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=4), plain, max_size=5))
def test_the_id_is_gx_own_for_drawn_keywords(kwargs):
    ours, original = ids_both_ways(kwargs)
    assert ours == original


def test_the_method_is_installed_on_gx_id_dicts():
    from great_expectations.core.id_dict import IDDict

    _validator()
    assert IDDict.__dict__["to_id"] is gx_ids.to_id
