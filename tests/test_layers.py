"""The packages' arrows (STYLE.md): discovery -> inventory <- catalog <- budget <- dashboards, agents -> inventory,
every package -> core, accounts beside them (it reads the units of inventory; no package reads accounts: app.py wires it in).
An edge is an import, or a `url_for("blueprint...")` in code or a template naming another package's pages."""
import ast
import re
import shutil
from functools import cache
from pathlib import Path

import pytest

from app import create_app
from tests.conftest import SECRETS_KEY

ROOT = Path(__file__).resolve().parent.parent
# What each package may import of the others: the arrows, followed as far as they go. Dashboards also read
# discovery's services: scan coverage is one of their figures.
ALLOWED = {
    "core": set(),
    "inventory": {"core"},
    "discovery": {"inventory", "core"},
    "agents": {"inventory", "core"},
    "catalog": {"inventory", "core"},
    "budget": {"catalog", "inventory", "core"},
    "dashboards": {"budget", "catalog", "inventory", "discovery", "core"},
    "accounts": {"inventory", "core"},
}
PACKAGES = tuple(ALLOWED)


URL_FOR_IN_TEMPLATE = re.compile(r"""url_for\(\s*['"](\w[\w-]*)\.""")


@cache
def package_of_blueprint() -> dict[str, str]:
    """Each blueprint the application registers, by name, and the package that defines it."""
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "test", "SECRETS_KEYS": SECRETS_KEY})
    return {name: blueprint.import_name.split(".")[0] for name, blueprint in app.blueprints.items()}


def imported_packages(path: Path) -> set[str]:
    """The product's packages a module imports, or whose pages it links to with url_for."""
    if path.suffix == ".html":
        return {package_of_blueprint().get(name, name) for name in URL_FOR_IN_TEMPLATE.findall(path.read_text())} \
            & set(PACKAGES)
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif _is_url_for(node) and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            blueprint = node.args[0].value.split(".")[0]
            names.add(package_of_blueprint().get(blueprint, blueprint))
    return names & set(PACKAGES)


def _is_url_for(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and node.args
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "url_for")


def modules_of(package: str, root: Path = ROOT) -> list[Path]:
    """The package's modules and templates."""
    folder = root / package
    if not (folder / "__init__.py").is_file():
        raise LookupError(f"package {package!r} does not exist at {folder}")
    return sorted([*folder.rglob("*.py"), *folder.rglob("*.html")])


def wrong_imports(package: str, root: Path = ROOT) -> list[str]:
    return [f"{path.relative_to(root)} imports {other}"
            for path in modules_of(package, root)
            for other in sorted(imported_packages(path) - ALLOWED[package] - {package})]


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_imports_follow_the_arrows(package):
    assert wrong_imports(package) == []


def test_a_package_that_does_not_exist_fails_the_check():
    with pytest.raises(LookupError, match="package 'nowhere' does not exist"):
        modules_of("nowhere")


def test_the_check_sees_a_wrong_import(tmp_path):
    module = tmp_path / "x.py"
    module.write_text("from budget.gaps import Gap\nimport dashboards.views\n"
                      "from flask import url_for\nurl_for('accounts_pages.sign_in_page')\nurl_for('scopes.Scopes')\n")
    assert imported_packages(module) == {"budget", "dashboards", "accounts", "discovery"}
    template = tmp_path / "x.html"
    template.write_text("<a href=\"{{ url_for('units.UnitByCode', code=u.code) }}\">{{ url_for( 'dashboards.home') }}")
    assert imported_packages(template) == {"inventory", "dashboards"}


@pytest.mark.parametrize("package, name, line, target", [
    ("inventory", "probe.py", "from accounts.web import audit", "accounts"),  # the old inventory -> accounts edge
    ("inventory", "probe.py", "import discovery.scans", "discovery"),
    ("accounts", "probe.py", "from flask import url_for\nurl_for('dashboards.home')", "dashboards"),  # the old one
    ("core", "probe.py", "from inventory.models import Unit", "inventory"),
    ("discovery", "probe.py", "from accounts.models import Role", "accounts"),
    ("core", "templates/probe.html", "{{ url_for('accounts_pages.sign_out_page') }}", "accounts"),  # old layout
])
def test_a_forbidden_edge_added_to_a_package_fails(tmp_path, package, name, line, target):
    """On a copy of the package, the edge added: the check names it; the copy without it passes."""
    shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    assert wrong_imports(package, tmp_path) == []
    (tmp_path / package / name).write_text(line + "\n")
    assert wrong_imports(package, tmp_path) == [f"{package}/{name} imports {target}"]
