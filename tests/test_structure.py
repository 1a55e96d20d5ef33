"""Each shared idea keeps one home: the package has no import cycle, settings are read in one place
and documented once, errors form one family, figures are formatted one way."""
import ast
import dataclasses
import importlib
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl import config, formatting
from etl.errors import IgaError

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent
ETL = REPO / "etl"
DAGS = REPO / "dags"


def _imported_etl_modules(path: Path) -> set[str]:
    """Every ``etl.*`` module a file imports, at module level or inside a function (a lazy import
    still ties the two modules together)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "etl":  # from etl import reference, values
                found.update(f"etl.{alias.name}" for alias in node.names)
            elif node.module.startswith("etl."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("etl."))
    return found


def _import_graph() -> dict[str, set[str]]:
    modules = {f"etl.{p.stem}": p for p in ETL.glob("*.py") if p.stem != "__init__"}
    return {name: _imported_etl_modules(path) & set(modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, done = [], set()

    def visit(node, path):
        if node in path:
            cycles.append(path[path.index(node):] + [node])
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            visit(target, path + [node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return cycles


def test_the_import_graph_walk_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_import_cycle_inside_etl():
    graph = _import_graph()
    assert graph["etl.examine"] and graph["etl.quality_checks"]  # the walk sees imports
    assert _cycles(graph) == []


def _environment_reads(path: Path) -> list[str]:
    """Where a file reads the environment: os.getenv, os.environ[...] read, os.environ.get, a copy
    of os.environ... Writing it (os.environ[k] = v, setdefault, update, pop) is allowed."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                a.name in ("environ", "getenv", "environb") for a in node.names):
            reads.append(f"{path.name}:{node.lineno} from os import environ/getenv")
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"):
            continue
        if node.attr == "getenv":
            reads.append(f"{path.name}:{node.lineno} os.getenv")
        if node.attr != "environ":
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Subscript) and isinstance(parent.ctx, (ast.Store, ast.Del)):
            continue
        if isinstance(parent, ast.Attribute) and parent.attr in ("setdefault", "update", "pop"):
            continue
        reads.append(f"{path.name}:{node.lineno} os.environ")
    return reads


def test_the_environment_probe_sees_reads_and_lets_writes_through(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import os\nfrom os import getenv\na = os.environ.get('X')\nb = os.environ['X']\n"
                     "c = dict(os.environ)\nd = os.getenv('X')\nos.environ['X'] = '1'\n"
                     "os.environ.setdefault('X', '1')\nos.environ.update(X='1')\nos.environ.pop('X')\n")
    assert sorted(r.split()[0] for r in _environment_reads(probe)) == [
        "probe.py:2", "probe.py:3", "probe.py:4", "probe.py:5", "probe.py:6"]


def test_no_environment_read_outside_etl_config():
    files = [p for p in [*ETL.glob("*.py"), *DAGS.glob("*.py")] if p != ETL / "config.py"]
    assert [read for path in files for read in _environment_reads(path)] == []


def _readme_configuration_variables() -> set[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1]
    table = section.split("\n\n| variable |", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"^\| `(IGA_[A-Z0-9_]+)` \|", table, flags=re.MULTILINE))


def test_the_readme_configuration_table_lists_exactly_the_settings():
    documented = _readme_configuration_variables()
    assert documented == set(config.variables())
    # every field says which variable it is read from
    assert [f.name for f in dataclasses.fields(config.Settings)] == list(config.variables().values())


def test_every_variable_the_code_names_is_a_setting():
    named = {name for path in [*ETL.glob("*.py"), *DAGS.glob("*.py")]
             for name in re.findall(r"\bIGA_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8"))}
    # docker-compose's own .env settings (etl/deployment.py names them when it refuses a value).
    compose_env = set(re.findall(r"^(IGA_[A-Z0-9_]+)=", (REPO / ".env.example").read_text(), flags=re.MULTILINE))
    assert named - set(config.variables()) - compose_env == set()


@pytest.mark.parametrize("variable", sorted(config.variables()))
def test_each_setting_is_read_from_its_variable(variable, monkeypatch, tmp_path):
    field = config.variables()[variable]
    is_number = isinstance(getattr(config.settings(), field), int)
    value = "7" if is_number else str(tmp_path / "set-by-test")
    before = getattr(config.settings(), field)
    monkeypatch.setenv(variable, value)
    after = getattr(config.settings(), field)
    assert after != before
    assert after == 7 if is_number else value in str(after)


def test_a_setting_that_is_not_a_number_is_one_configuration_error(monkeypatch):
    monkeypatch.setenv("IGA_MAX_ROWS", "lots")
    with pytest.raises(IgaError, match="IGA_MAX_ROWS must be a whole number, not 'lots'"):
        config.settings()


def _error_classes():
    for path in sorted(ETL.glob("*.py")):
        module = importlib.import_module(f"etl.{path.stem}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == module.__name__:
                yield value


def test_every_error_of_the_package_is_an_iga_error():
    classes = set(_error_classes())
    assert {c.__name__ for c in classes} >= {"UnreadableFile", "UnknownReferenceCode", "PipelineFailed",
                                              "AirflowNotReady", "ValidationCrashed", "IgaError"}
    assert [c.__name__ for c in classes if not issubclass(c, IgaError)] == []


def test_the_cli_prints_a_pipeline_error_in_one_line_with_its_exit_code(monkeypatch, capsys, tmp_path):
    from etl import cli

    sample = tmp_path / "agr.csv"
    sample.write_text("Code projet;Intitulé du projet\n", encoding="utf-8")
    monkeypatch.setenv("IGA_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("IGA_MAX_FILE_MB", "fifty")
    assert cli.main(["check", str(sample), "--province", "MA-TAO", "--period", "2013"]) == 3
    err = capsys.readouterr().err.strip()
    assert err == "iga check: ConfigurationError: IGA_MAX_FILE_MB must be a whole number, not 'fifty'"


# --- one format for every figure --------------------------------------------------------------

@given(st.integers(min_value=-10 ** 15, max_value=10 ** 15))
def test_amounts_read_the_same_in_messages_tables_and_the_command_line(cents):
    from etl.publish import _fmt

    mad = Decimal(cents) / 100
    assert formatting.format_mad(cents) == formatting.format_amount(mad) == _fmt("total_cost_mad", mad)
    assert formatting.format_amount(float(mad)) == formatting.format_mad(cents) or abs(cents) > 10 ** 13
    whole = formatting.format_mad(cents).split(",")[0].lstrip("-")
    assert whole.replace(formatting.THOUSANDS_SEPARATOR, "") == str(abs(cents) // 100)
    assert all(len(group) == 3 for group in whole.split(formatting.THOUSANDS_SEPARATOR)[1:])


@given(st.integers(min_value=0, max_value=10 ** 12))
def test_counts_and_rounded_amounts_use_the_same_separator(n):
    from etl.publish import _fmt

    assert formatting.format_count(n) == _fmt("projects", n) == formatting.format_mad(n * 100)[:-3]
    assert formatting.format_rounded_mad(float(n)) == formatting.format_count(n)


def test_shares_read_as_french_percentages():
    from etl.publish import _fmt

    assert _fmt("promoter_share", Decimal("0.315")) == formatting.format_share(Decimal("0.315")) == "31,5 %"
    assert formatting.format_percent(0.3) == "30" and formatting.format_percent(0.125) == "12,5"


def _thousands_grouping(path: Path) -> list[str]:
    """Where a file groups digits itself: a ``,`` in a format spec (f-string, str.format, format())
    or a no-break space character in a string."""
    spec = re.compile(r"\{[^{}]*:[^{}a-zA-Z]*,[^{}]*\}")
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            parts = [v.value for v in node.format_spec.values if isinstance(v, ast.Constant)]
            if any("," in str(part) for part in parts):
                found.append(f"{path.name}:{node.lineno}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if spec.search(node.value) or any(c in node.value for c in "\u00a0\u202f\u2007"):
                found.append(f"{path.name}:{node.lineno}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "format"
              and len(node.args) == 2 and isinstance(node.args[1], ast.Constant) and "," in str(node.args[1].value)):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_the_grouping_probe_sees_every_way(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("a = f'{x:,}'\nb = f'{x:>12,.2f}'\nc = '{:,}'.format(x)\nd = format(x, ',')\n"
                     "e = 'x\u202fy'\nf = f'{x:.2f} {y!r:>5}'\ng = {'k': 1, 'j': 2}\n", encoding="utf-8")
    assert sorted(_thousands_grouping(probe)) == [f"probe.py:{n}" for n in range(1, 6)]


def test_no_module_groups_thousands_itself():
    """Digits are grouped in etl/formatting.py only (the sample generator writes the ways clerks type
    amounts on purpose, and etl/values.py reads them)."""
    own = [p for p in ETL.glob("*.py") if p.stem not in ("formatting", "sample", "values")]
    assert [where for path in own for where in _thousands_grouping(path)] == []


def test_make_help_lists_every_target_in_one_line():
    import subprocess

    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    phony = set(re.search(r"^\.PHONY: (.*)$", makefile, flags=re.MULTILINE).group(1).split())
    lines = subprocess.run(["make", "-s", "-C", str(REPO), "help"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    listed = [line.split()[0] for line in lines]
    assert sorted(listed) == sorted(phony | {"install"})
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def _defined_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_every_name_is_imported_from_its_home():
    """No re-export: ``from etl.x import name`` only where etl/x.py defines ``name`` itself."""
    defined = {f"etl.{p.stem}": _defined_names(p) for p in ETL.glob("*.py")}
    borrowed = []
    for path in [*ETL.glob("*.py"), *DAGS.glob("*.py"), *(REPO / "tests").glob("*.py"), *(REPO / "bench").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in defined:
                borrowed += [f"{path.name}:{node.lineno} {node.module}.{a.name}" for a in node.names
                             if a.name not in defined[node.module]]
    assert borrowed == []
