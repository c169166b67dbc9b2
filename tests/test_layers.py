"""The packages' arrows (DESIGN.md, STYLE.md): discovery -> inventory <- catalog <- budget <- dashboards, every
package -> core, accounts beside them (it reads the units of inventory; no package reads accounts: app.py wires
it in). An edge is an import, or a `url_for("blueprint...")` naming another package's pages."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What each package may import of the others: the arrows, followed as far as they go. Dashboards also read
# discovery's services: scan coverage is one of their figures.
ALLOWED = {
    "core": set(),
    "inventory": {"core"},
    "discovery": {"inventory", "core"},
    "catalog": {"inventory", "core"},
    "budget": {"catalog", "inventory", "core"},
    "dashboards": {"budget", "catalog", "inventory", "discovery", "core"},
    "accounts": {"inventory", "core"},
}
PACKAGES = tuple(ALLOWED)
# Packages still to be written: their arrows are stated, and their test starts checking when they exist.
TO_COME = {"catalog", "budget"}


def imported_packages(path: Path) -> set[str]:
    """The product's packages a module imports, or whose pages it links to with url_for."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif _is_url_for(node) and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            blueprint = node.args[0].value.split(".")[0]
            names.update(package for package in PACKAGES if blueprint.startswith(package))
    return names & set(PACKAGES)


def _is_url_for(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and node.args
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "url_for")


def modules_of(package: str) -> list[Path]:
    folder = ROOT / package
    if not (folder / "__init__.py").is_file():
        raise LookupError(f"package {package!r} does not exist at {folder}")
    return sorted(folder.rglob("*.py"))


def wrong_imports(package: str) -> list[str]:
    return [f"{path.relative_to(ROOT)} imports {other}"
            for path in modules_of(package)
            for other in sorted(imported_packages(path) - ALLOWED[package] - {package})]


@pytest.mark.parametrize("package", sorted(set(PACKAGES) - TO_COME))
def test_imports_follow_the_arrows(package):
    assert wrong_imports(package) == []


def test_packages_to_come_do_not_exist_yet():
    """When catalog or budget is written, move it out of TO_COME so that its arrows are checked."""
    assert [p for p in sorted(TO_COME) if (ROOT / p).exists()] == []


def test_a_package_that_does_not_exist_fails_the_check():
    with pytest.raises(LookupError, match="package 'nowhere' does not exist"):
        modules_of("nowhere")


def test_the_check_sees_a_wrong_import(tmp_path):
    module = tmp_path / "x.py"
    module.write_text("from budget.gaps import Gap\nimport dashboards.views\n"
                      "from flask import url_for\nurl_for('accounts_pages.sign_in_page')\n")
    assert imported_packages(module) == {"budget", "dashboards", "accounts"}


@pytest.mark.parametrize("line, package", [
    ("from accounts.web import audit", "inventory"),           # the old inventory -> accounts edge
    ("import discovery.scans", "inventory"),
    ("from flask import url_for\nurl_for('dashboards.home')", "accounts"),  # the old accounts -> dashboards edge
    ("from inventory.models import Unit", "core"),
    ("from accounts.models import Role", "discovery"),
])
def test_a_forbidden_edge_added_to_a_package_fails(line, package):
    added = ROOT / package / "_forbidden_edge_probe.py"
    added.write_text(line + "\n")
    try:
        assert wrong_imports(package) != []
    finally:
        added.unlink()
