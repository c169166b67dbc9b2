"""Catalog versions: create (empty or as a copy), edit while a draft, replace their content, publish, and find
the one in force at a date. Every function runs in the caller's transaction and never commits.

A published version is frozen: the judgements recorded under it keep meaning what they meant. It is in force
from its effective date until a later published version takes effect; two published versions never share an
effective date, so exactly one is in force at any date from the first."""
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.content import (
    SHEETS,
    CatalogContent,
    CategoryRow,
    ModelRow,
    NormRow,
    PartRow,
    RequirementRow,
    content_rows,
    numbered,
    read_content,
)
from catalog.models import (
    ApprovedModel,
    CatalogVersion,
    Category,
    CategoryGroup,
    Norm,
    Requirement,
    Severity,
    UpgradePart,
)
from catalog.rules import CategoryRule, Check, ModelRule, NormRule, Rules
from core.audit import record
from core.errors import Conflict, InvalidInput, NotFound
from core.i18n import Reason
from core.time import utcnow

VERSION_FIELDS = ("name", "effective_on", "legal_basis", "note")


def version_status(version: CatalogVersion, on: dt.date, in_force_id: int | None) -> str:
    """draft, scheduled (published, not yet effective), in_force, or superseded, on day `on`."""
    if version.published_at is None:
        return "draft"
    if version.id == in_force_id:
        return "in_force"
    return "scheduled" if version.effective_on > on else "superseded"


def get_version(session: Session, version_id: int) -> CatalogVersion:
    version = session.get(CatalogVersion, version_id)
    if version is None:
        raise NotFound(Reason("catalog version %(id)s does not exist", id=version_id))
    return version


def list_versions(session: Session) -> list[CatalogVersion]:
    return list(session.scalars(select(CatalogVersion).order_by(CatalogVersion.effective_on.desc(),
                                                                 CatalogVersion.id.desc())))


def version_in_force(session: Session, on: dt.date) -> CatalogVersion | None:
    return session.scalars(select(CatalogVersion).where(CatalogVersion.published_at.is_not(None),
                                                        CatalogVersion.effective_on <= on)
                           .order_by(CatalogVersion.effective_on.desc()).limit(1)).one_or_none()


def version_or_in_force(session: Session, version_id: int | None, on: dt.date) -> CatalogVersion:
    if version_id is not None:
        return get_version(session, version_id)
    version = version_in_force(session, on)
    if version is None:
        raise NotFound(Reason("no catalog version is in force on %(day)s; publish one first",
                              day=on.strftime("%d/%m/%Y")))
    return version


def create_version(session: Session, args: Mapping[str, Any], *, by: str) -> CatalogVersion:
    """A draft, empty or holding a copy of `copy_of`'s content."""
    _refuse_taken_name(session, args["name"])
    version = CatalogVersion(name=args["name"], effective_on=args["effective_on"],
                             legal_basis=args.get("legal_basis", ""), note=args.get("note", ""))
    source = None
    if args.get("copy_of") is not None:
        source = get_version(session, args["copy_of"])
        version.based_on_id = source.id
    session.add(version)
    session.flush()
    if source is not None:
        store_content(session, version, load_content(source))
    record(session, by, "catalog.version.create", "catalog_version", version.id, after={
        "name": version.name, "effective_on": version.effective_on.isoformat(), "copy_of": args.get("copy_of")})
    return version


def update_version(session: Session, version_id: int, changes: Mapping[str, Any], *, by: str) -> CatalogVersion:
    version = _draft(session, version_id)
    if "name" in changes and changes["name"] != version.name:
        _refuse_taken_name(session, changes["name"])
    for name in VERSION_FIELDS:
        if name in changes:
            setattr(version, name, changes[name])
    record(session, by, "catalog.version.update", "catalog_version", version.id,
           after={k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in changes.items()})
    return version


def delete_version(session: Session, version_id: int, *, by: str) -> None:
    version = _draft(session, version_id)
    copies = session.scalars(select(CatalogVersion.name).where(CatalogVersion.based_on_id == version.id)
                             .order_by(CatalogVersion.name)).all()
    if copies:  # their based_on_id points here: their differences are read against it
        raise Conflict(Reason("%(name)s cannot be deleted: it is the base of %(copies)s", name=version.name,
                              copies=", ".join(copies)))
    record(session, by, "catalog.version.delete", "catalog_version", version.id, after={"name": version.name})
    session.delete(version)


def publish_version(session: Session, version_id: int, *, by: str) -> CatalogVersion:
    """Freeze a draft and put it in force from its effective date; refused when another published version takes
    effect on that date. (compliance.publish_and_judge also refuses a version that leaves devices in use without
    a category, and judges them.)"""
    version = _draft(session, version_id)
    clash = session.scalars(select(CatalogVersion).where(CatalogVersion.published_at.is_not(None),
                                                         CatalogVersion.effective_on == version.effective_on)).first()
    if clash is not None:
        raise Conflict(Reason("%(other)s already takes effect on %(day)s: two versions cannot be in force on one "
                              "date; change this version's effective date", other=clash.name,
                              day=version.effective_on.strftime("%d/%m/%Y")), field="effective_on")
    if not version.categories:
        raise InvalidInput(Reason("the version has no categories; import or add them before publishing"))
    version.published_at, version.published_by = utcnow(), by
    record(session, by, "catalog.version.publish", "catalog_version", version.id,
           after={"name": version.name, "effective_on": version.effective_on.isoformat()})
    return version


def _draft(session: Session, version_id: int) -> CatalogVersion:
    version = get_version(session, version_id)
    if version.published_at is not None:
        raise Conflict(Reason("%(name)s is published and can no longer change; create a new version from it",
                              name=version.name))
    return version


def _refuse_taken_name(session: Session, name: str) -> None:
    if session.scalars(select(CatalogVersion.id).where(CatalogVersion.name == name)).first() is not None:
        raise Conflict(Reason("a catalog version named %(name)r already exists", name=name), field="name")


# ---- content --------------------------------------------------------------------------------------------------

def load_content(version: CatalogVersion) -> CatalogContent:
    """The version's rows as checked content (what read_content gave when they were stored)."""
    return CatalogContent(
        categories=tuple(CategoryRow(c.code, c.name_vi, c.name_en, c.group.value, tuple(c.device_classes),
                                     tuple(Check(**k) for k in c.conditions), c.rank, c.wired, c.service_life_years,
                                     c.wear_rate_percent, c.life_legal_basis) for c in version.categories),
        models=tuple(ModelRow(m.category.code, m.vendor, m.model_pattern, m.price_vnd, m.end_of_sale,
                              m.end_of_support, m.note) for m in version.models),
        requirements=tuple(RequirementRow(r.category.code, r.spec, r.op, r.value, r.severity.value)
                           for r in version.requirements),
        parts=tuple(PartRow(p.code, p.category.code, p.name, dict(p.raises), p.adds, p.price_vnd)
                    for p in version.parts),
        norms=tuple(NormRow(n.code, n.category.code, n.basis, tuple(n.unit_kinds), n.every, n.each, n.spare_percent,
                            n.minimum, n.max_quantity, n.max_unit_price_vnd, n.legal_basis, n.note)
                    for n in version.norms))


def store_content(session: Session, version: CatalogVersion, content: CatalogContent) -> None:
    """Replace a draft's content with checked content."""
    for items in (version.norms, version.parts, version.requirements, version.models, version.categories):
        items.clear()
    session.flush()
    by_code = {}
    for row in content.categories:
        category = Category(code=row.code, name_vi=row.name_vi, name_en=row.name_en, group=CategoryGroup(row.group),
                            device_classes=list(row.device_classes), rank=row.rank, wired=row.wired,
                            conditions=[{"spec": k.spec, "op": k.op, "value": k.value} for k in row.conditions],
                            service_life_years=row.service_life_years, wear_rate_percent=row.wear_rate_percent,
                            life_legal_basis=row.life_legal_basis)
        version.categories.append(category)
        by_code[row.code] = category
    version.models.extend(ApprovedModel(category=by_code[m.category], vendor=m.vendor, model_pattern=m.model_pattern,
                                        price_vnd=m.price_vnd, end_of_sale=m.end_of_sale,
                                        end_of_support=m.end_of_support, note=m.note) for m in content.models)
    version.requirements.extend(Requirement(category=by_code[r.category], spec=r.spec, op=r.op, value=r.value,
                                            severity=Severity(r.severity)) for r in content.requirements)
    version.parts.extend(UpgradePart(category=by_code[p.category], code=p.code, name=p.name, raises=dict(p.raises),
                                     adds=p.adds, price_vnd=p.price_vnd) for p in content.parts)
    version.norms.extend(Norm(category=by_code[n.category], code=n.code, unit_kinds=list(n.unit_kinds), basis=n.basis,
                              every=n.every, each=n.each, spare_percent=n.spare_percent, minimum=n.minimum,
                              max_quantity=n.max_quantity, max_unit_price_vnd=n.max_unit_price_vnd,
                              legal_basis=n.legal_basis, note=n.note) for n in content.norms)
    for item in (*version.models, *version.requirements, *version.parts, *version.norms):
        item.version_id = version.id
    session.flush()


def replace_content(session: Session, version_id: int, sheets: Mapping[str, Sequence[tuple[int, Mapping[str, Any]]]],
                    *, by: str, headers: Mapping[str, Sequence[str]] | None = None,
                    source: str = "import") -> CatalogVersion:
    """Replace a draft's content with the given sheets; a sheet not given keeps its rows. All or nothing."""
    version = _draft(session, version_id)
    current = content_rows(load_content(version))
    merged = {name: sheets[name] if name in sheets else numbered(dict(zip(SHEETS[name], row)) for row in current[name])
              for name in SHEETS}
    content = read_content({**merged, **{k: v for k, v in sheets.items() if k not in SHEETS}}, headers=headers)
    store_content(session, version, content)
    record(session, by, f"catalog.version.{source}", "catalog_version", version.id,
           after={"sheets": sorted(sheets), **{name: len(getattr(content, name)) for name in SHEETS}})
    return version


def sheet_rows(version: CatalogVersion, sheet: str) -> list[dict[str, Any]]:
    """One sheet of a version as rows by column (what the API lists and an edit replaces)."""
    if sheet not in SHEETS:
        raise NotFound(Reason("%(sheet)r is not a sheet of a catalog; its sheets are %(sheets)s", sheet=sheet,
                              sheets=", ".join(SHEETS)))
    return [dict(zip(SHEETS[sheet], row)) for row in content_rows(load_content(version))[sheet]]


def rules_of(version: CatalogVersion) -> Rules:
    """The version as the pure judgement reads it."""
    return Rules(
        version_id=version.id,
        categories=tuple(CategoryRule(c.code, frozenset(c.device_classes), tuple(Check(**k) for k in c.conditions),
                                      c.rank, c.service_life_years, c.wear_rate_percent)
                         for c in sorted(version.categories, key=lambda c: (c.rank, c.code))),
        models=tuple(ModelRule(m.id, m.category.code, m.vendor, m.model_pattern, m.price_vnd, m.end_of_sale,
                               m.end_of_support) for m in version.models),
        requirements=_requirements_by_category(version))


def _requirements_by_category(version: CatalogVersion) -> dict[str, tuple[Check, ...]]:
    found: dict[str, list[Check]] = {}
    for r in version.requirements:
        found.setdefault(r.category.code, []).append(Check(r.spec, r.op, r.value, r.severity.value))
    return {code: tuple(checks) for code, checks in found.items()}


def norm_rules(version: CatalogVersion) -> list[NormRule]:
    return [NormRule(n.code, n.category.code, n.basis, frozenset(n.unit_kinds), n.every, n.each, n.spare_percent,
                     n.minimum, n.max_quantity, n.max_unit_price_vnd) for n in version.norms]


def loaded_version(session: Session, version_id: int) -> CatalogVersion:
    """A version with all its rows read in a few queries (a judgement of 50,000 devices reads them once)."""
    version = session.scalars(select(CatalogVersion).where(CatalogVersion.id == version_id).options(
        selectinload(CatalogVersion.categories), selectinload(CatalogVersion.models).joinedload(ApprovedModel.category),
        selectinload(CatalogVersion.requirements).joinedload(Requirement.category),
        selectinload(CatalogVersion.parts).joinedload(UpgradePart.category),
        selectinload(CatalogVersion.norms).joinedload(Norm.category))).one_or_none()
    if version is None:
        raise NotFound(Reason("catalog version %(id)s does not exist", id=version_id))
    return version


