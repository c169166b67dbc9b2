"""The packages' arrows (DESIGN.md): discovery -> inventory <- catalog <- budget <- dashboards."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("inventory", "discovery", "catalog", "budget", "dashboards", "accounts")
# What each package may import of the others. accounts sits beside them all: routes declare permissions.
ALLOWED = {
    "inventory": {"accounts"},
    "discovery": {"inventory", "accounts"},
    "catalog": {"inventory", "accounts"},
    "budget": {"catalog", "inventory", "accounts"},
    "dashboards": {"budget", "catalog", "inventory", "discovery", "accounts"},
    "accounts": {"inventory"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_follow_the_arrows(package):
    wrong = [f"{path.relative_to(ROOT)} imports {other}"
             for path in sorted((ROOT / package).rglob("*.py"))
             for other in sorted(imported_packages(path) - ALLOWED[package] - {package})]
    assert wrong == []


def test_the_check_sees_a_wrong_import(tmp_path):
    module = tmp_path / "x.py"
    module.write_text("from budget.gaps import Gap\nimport dashboards.views\n")
    assert imported_packages(module) == {"budget", "dashboards"}
