"""The house rules of README's "Code layout", checked on every import statement (lazy ones too)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("monitor", "store", "notifiers", "web")
# monitor/'s root: the contracts every wing shares. The configuration is a package of its own
# (its schema in parts), the one way out is netguard with its failure table and socket layer.
ROOT_CONTRACTS = frozenset({"config", "config_view", "cadence", "cache_files", "environment", "errors", "schedule", "report", "events", "netguard", "net_failures",
                            "asyncio_backend", "http11", "inflate", "secrets", "inert", "textdiff", "textnormal", "labels", "localtime", "messages", "gcpause"})
WINGS = frozenset({"lists", "links", "runtime", "cli", "demo"})
MAY_IMPORT = {
    "store": set(),
    "monitor": {"store"},
    "monitor.lists": {"monitor", "store"},
    "monitor.links": {"monitor", "store", "monitor.lists"},
    "notifiers": {"monitor", "store"},
    "web": {"monitor", "store"},
    # runtime, cli and demo sit on top: they may use every wing
    "monitor.runtime": None, "monitor.cli": None, "monitor.demo": None,
}


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module of ours that ``path`` imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_of(path) if path.name == "__init__.py" else module_of(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            found.add(".".join(base + ([node.module] if node.module else [])))
    return {name for name in found if name.split(".")[0] in PACKAGES}


def wing_of(module: str) -> str:
    """``monitor.lists.match`` → ``monitor.lists``; ``monitor.config.links`` → ``monitor`` (the root)."""
    parts = module.split(".")
    if parts[0] == "monitor" and len(parts) > 1 and parts[1] in WINGS:
        return f"monitor.{parts[1]}"
    return parts[0]


def allowed(importer: str, imported: str) -> bool:
    source, target = wing_of(importer), wing_of(imported)
    if source == target:
        return True
    rule = MAY_IMPORT[source]
    return rule is None or target in rule


def test_every_import_keeps_the_house_rules() -> None:
    breaches = [
        f"{module_of(path)} imports {name}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts and path.name != "__main__.py"
        for name in sorted(imports_of(path))
        if not allowed(module_of(path), name)
    ]
    assert breaches == []


def test_the_root_of_monitor_holds_only_the_shared_contracts() -> None:
    modules = {path.stem for path in (ROOT / "monitor").glob("*.py")} - {"__init__", "__main__"}
    folders = {path.name for path in (ROOT / "monitor").iterdir() if (path / "__init__.py").exists()}
    assert (modules | folders) - WINGS <= ROOT_CONTRACTS


def test_the_rules_see_a_breach() -> None:
    assert not allowed("monitor.lists.pipeline", "monitor.links.run")
    assert not allowed("notifiers.digest", "monitor.lists.diff")
    assert not allowed("store.queries", "monitor.config")
    assert allowed("web.pages", "monitor.config.links")


def test_no_module_is_over_500_lines_and_none_is_a_grab_bag() -> None:
    paths = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]
    too_long = [str(p.relative_to(ROOT)) for p in paths if len(p.read_text(encoding="utf-8").splitlines()) > 500]
    grab_bags = [str(p.relative_to(ROOT)) for p in paths if p.stem in {"utils", "common", "helpers", "misc"}]
    assert (too_long, grab_bags) == ([], [])
