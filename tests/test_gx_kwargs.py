"""etl/gx_kwargs.py: GX's keyword methods, reading the configuration once per call, give what GX's own give."""
import pytest

from etl import gx_kwargs
from etl.validate import _validator

pytestmark = pytest.mark.unit


def test_each_expectation_of_the_suite_gets_the_same_keywords_both_ways():
    import great_expectations

    _, suite = _validator()
    assert great_expectations.__version__ == gx_kwargs.GX_VERSION and gx_kwargs.install()
    original, ours = gx_kwargs.ORIGINAL, gx_kwargs.REPLACEMENTS
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": ["row_id"]}
    assert len(suite.expectations) >= 10
    for expectation in suite.expectations:
        assert gx_kwargs.configured_kwargs(expectation) == expectation.configuration.kwargs, expectation
        for name in ("_get_domain_kwargs", "_get_success_kwargs"):
            assert ours[name](expectation) == original[name](expectation), (expectation, name)
        for runtime in (None, {}, {"result_format": result_format}, {"result_format": "BOOLEAN_ONLY"}):
            assert ours["_get_runtime_kwargs"](expectation, runtime) == original["_get_runtime_kwargs"](
                expectation, runtime), (expectation, runtime)
        keys = {*expectation.domain_keys, *expectation.success_keys, *expectation.runtime_keys, "not_a_field"}
        for key in sorted(keys):
            assert ours["_get_success_kwarg"](expectation, key, "default") == original["_get_success_kwarg"](
                expectation, key, "default"), (expectation, key)


def test_the_methods_are_installed_on_gx_expectations():
    from great_expectations.expectations.expectation import Expectation

    _validator()
    for name, method in gx_kwargs.REPLACEMENTS.items():
        assert Expectation.__dict__[name] is method
