"""The house rules of docs/architecture.md, read from the source: short functions, no branch on a
family, backend or architecture name outside the registries, and the arrows that must never exist."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

from advisor.types import Family
from tuners.backends import BACKENDS
from tuners.families.keras_net import ARCHITECTURES as KERAS_ARCHITECTURES
from tuners.families.networks import ARCHITECTURES as TORCH_ARCHITECTURES

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("advisor", "rules", "tuners", "reports")
# Where names may be branched on: the registries and the enum that names the families.
REGISTRIES = ("tuners/families/", "rules/catalog.py", "advisor/types.py")
NAMES = ({f.value for f in Family} | set(BACKENDS) | set(TORCH_ARCHITECTURES) | set(KERAS_ARCHITECTURES)
         | {"lstm", "gru"})  # the RNN's cells, which its duel races
LONGEST_FUNCTION = 60


@functools.cache
def _modules() -> tuple[tuple[str, ast.Module], ...]:
    """(path, syntax tree) of every module of ours, parsed once for all the tests here."""
    return tuple((path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
                 for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py")))


def _names_in(node: ast.AST) -> list[str]:
    keys = {id(part.slice) for part in ast.walk(node) if isinstance(part, ast.Subscript)}  # row["linear"] is a key
    found = []
    for part in ast.walk(node):
        if id(part) in keys:
            continue
        if isinstance(part, ast.Constant) and isinstance(part.value, str) and part.value in NAMES:
            found.append(part.value)
        if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and part.value.id == "Family":
            found.append(f"Family.{part.attr}")
    return found


def branches_on_names() -> list[str]:
    """Every comparison (==, !=, in, is) or match on a family, backend or architecture name outside
    the registries, in the Python packages and the report templates: 'path:line: code'."""
    found = []
    for name, tree in _modules():
        if name.startswith(REGISTRIES):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and _names_in(node):
                found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
            elif isinstance(node, ast.Match) and _names_in(node):
                found.append(f"{name}:{node.lineno}: match")
    quoted = "|".join(re.escape(n) for n in sorted(NAMES))
    for path in sorted((ROOT / "reports" / "templates").glob("*.j2")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for tag in re.findall(r"{%-?\s*(?:if|elif)\s[^%]*%}", line):
                if re.search(rf"""==\s*['"]({quoted})['"]|['"]({quoted})['"]\s*(==|in)""", tag):
                    found.append(f"{path.relative_to(ROOT).as_posix()}:{number}: {tag}")
    return found


def test_no_branch_on_a_family_backend_or_architecture_name_outside_the_registries():
    found = branches_on_names()
    assert len(found) <= 3, "\n".join(found)  # issue 17: at most 3
    assert found == [], "use a field of the registry entry instead:\n" + "\n".join(found)


def test_the_branch_count_sees_a_branch_on_a_name():
    tree = ast.parse('if family == "rnn": pass\nif entry is Family.CNN: pass\nif x == "other": pass\n'
                     'if row["linear"] is None: pass\nif tuner in ("ray", "x"): pass\n')
    compares = [node for node in ast.walk(tree) if isinstance(node, ast.Compare)]
    assert [bool(_names_in(node)) for node in compares] == [True, True, False, False, True]


def test_no_function_is_longer_than_sixty_lines():
    long = [f"{name}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines"
            for name, tree in _modules() for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > LONGEST_FUNCTION]
    assert long == [], "\n".join(long)


def _imports(nodes, with_names: bool = False) -> set[str]:
    """The modules these statements import; `with_names`: also module.name for each `from` import."""
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | ({f"{node.module}.{alias.name}" for alias in node.names} if with_names else set())
    return names


def _within(module: str, packages) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


# (modules, what they must never import): the arrows docs/architecture.md forbids.
NEVER = [
    (("advisor/loading/", "advisor/profiling.py", "advisor/linearity.py", "advisor/modality.py"),
     ("rules", "tuners", "reports")),
    (("rules/",), ("tuners", "reports")),
    (("tuners/",), ("advisor.loading", "advisor.pipeline", "advisor.cli", "reports", "rules")),
    (("reports/",), ("tuners", "rules", "advisor.pipeline")),
]


@pytest.mark.parametrize("owners, forbidden", NEVER, ids=[owners[0] for owners, _ in NEVER])
def test_no_stage_imports_a_later_one(owners, forbidden):
    wrong = [f"{name} imports {module}" for name, tree in _modules() if name.startswith(owners)
             for module in sorted(_imports(ast.walk(tree))) if _within(module, forbidden)]
    assert wrong == [], "\n".join(wrong)


def test_only_the_ray_backend_imports_ray_and_only_keras_modules_import_keras():
    keras = ("tuners/keras_backend.py", "tuners/keras_search.py", "tuners/families/keras_",
             "tuners/export.py")  # the keras model format's save and load
    allowed = {"ray": ("tuners/ray_backend.py", "tuners/ray_control.py"), "keras": keras, "keras_tuner": keras}
    wrong = [f"{name} imports {module}" for name, tree in _modules() for module in sorted(_imports(ast.walk(tree)))
             for library, owners in allowed.items() if _within(module, (library,)) and not name.startswith(owners)]
    assert wrong == [], "\n".join(wrong)


def test_no_import_circle_among_our_modules():
    graph = {}
    for name, tree in _modules():
        module = name[:-3].replace("/", ".").removesuffix(".__init__")
        graph[module] = _imports(tree.body, with_names=True)  # what importing it runs
    graph = {module: {m for m in imports if m in graph and m != module} for module, imports in graph.items()}

    def reaches(start, goal, seen):
        return any(m == goal or (m not in seen and not seen.add(m) and reaches(m, goal, seen)) for m in graph[start])

    circles = sorted(f"{module} -> {other}" for module, imports in graph.items() for other in imports
                     if not module.startswith(other + ".") and reaches(other, module, set()))
    assert circles == [], "\n".join(circles)
