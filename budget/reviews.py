"""Officers' reviews of their units' gaps and administrators' resolution of disputes. A disputed gap leaves
every plan until an administrator resolves it: upheld, it returns; withdrawn, it stays out. Each review and
resolution is in the audit log; the table keeps the latest per unit and category.

Runs in the caller's transaction and never commits."""
from collections.abc import Iterable, Mapping
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from budget.gaps import Gap
from budget.models import EXCLUDED_STATES, GapReview, ReviewState
from core.audit import record
from core.errors import Conflict, InvalidInput
from core.i18n import Reason
from core.time import utcnow
from inventory.models import Unit
from inventory.units import unit_in_scope

OFFICER_STATES = (ReviewState.CONFIRMED, ReviewState.DISPUTED)
RESOLUTIONS = (ReviewState.UPHELD, ReviewState.WITHDRAWN)


def reviews_of(session: Session, unit_ids: Iterable[int]) -> dict[tuple[str, str], GapReview]:
    """(unit code, category) -> its review, for the units given."""
    rows = session.execute(select(GapReview, Unit.code).join(Unit, Unit.id == GapReview.unit_id)
                           .where(GapReview.unit_id.in_(set(unit_ids))))
    return {(code, review.category_code): review for review, code in rows}


def for_plans(unit_gaps: Iterable[Gap], reviews: Mapping[tuple[str, str], GapReview]
              ) -> tuple[list[Gap], list[Gap]]:
    """The gaps as plans take them, and the shortfalls left out. A disputed or withdrawn review leaves out the
    shortfall it was about; a shortfall that has grown since returns the difference to the plans (the
    officer reviewed 2 missing PCs, not the 5 that a new post makes)."""
    kept, excluded = [], []
    for gap in unit_gaps:
        review = reviews.get((gap.unit_code, gap.category))
        if gap.shortfall and review is not None and review.state in EXCLUDED_STATES:
            left_out = min(gap.shortfall, review.shortfall)
            excluded.append(replace(gap, shortfall=left_out))
            gap = replace(gap, shortfall=gap.shortfall - left_out)
        kept.append(gap)
    return kept, excluded


def review_gap(session: Session, unit_code: str, category: str, state: str, comment: str, *, shortfall: int,
               by: str, scope: frozenset[int] | None) -> GapReview:
    """An officer confirms or disputes their unit's gap; a dispute needs a comment saying why. `shortfall` is
    the gap as the officer saw it (the service computing it passes it)."""
    unit = unit_in_scope(session, unit_code, scope, field="unit")
    if state not in OFFICER_STATES:
        raise InvalidInput(Reason("a review confirms or disputes a gap, not %(state)r", state=state), field="state")
    if state == ReviewState.DISPUTED and not comment.strip():
        raise InvalidInput(Reason("say why the gap is disputed"), field="comment")
    review = session.scalars(select(GapReview).where(GapReview.unit_id == unit.id,
                                                     GapReview.category_code == category)).one_or_none()
    if review is not None and review.state in RESOLUTIONS and review.shortfall == shortfall:
        raise Conflict(Reason("an administrator has resolved the dispute over this gap; it can be reviewed again "
                              "once the gap changes"), field="state")
    before = _summary(review)
    if review is None:
        review = GapReview(unit_id=unit.id, category_code=category)
        session.add(review)
    review.state, review.comment, review.shortfall = ReviewState(state), comment.strip(), shortfall
    review.reviewed_by, review.reviewed_at = by, utcnow()
    review.resolution, review.resolved_by, review.resolved_at = "", None, None
    session.flush()
    record(session, by, "budget.gap.review", "gap_review", review.id, before=before,
           after={"unit": unit.code, **_summary(review)})
    return review


def resolve_gap(session: Session, unit_code: str, category: str, state: str, resolution: str, *, by: str,
                scope: frozenset[int] | None) -> GapReview:
    """An administrator resolves a disputed gap: upheld (it returns to the plans) or withdrawn (it stays out)."""
    unit = unit_in_scope(session, unit_code, scope, field="unit")
    if state not in RESOLUTIONS:
        raise InvalidInput(Reason("a dispute is resolved as upheld or withdrawn, not %(state)r", state=state),
                           field="state")
    review = session.scalars(select(GapReview).where(GapReview.unit_id == unit.id,
                                                     GapReview.category_code == category)).one_or_none()
    if review is None or review.state != ReviewState.DISPUTED:
        raise Conflict(Reason("the %(category)s gap of %(unit)s is not disputed", category=category,
                              unit=unit_code), field="category")
    before = _summary(review)
    review.state, review.resolution, review.resolved_by, review.resolved_at = (
        ReviewState(state), resolution.strip(), by, utcnow())
    session.flush()
    record(session, by, "budget.gap.resolve", "gap_review", review.id, before=before,
           after={"unit": unit.code, **_summary(review)})
    return review


def disputed(session: Session, unit_ids: Iterable[int] | None = None) -> list[tuple[str, GapReview]]:
    """Disputes waiting for an administrator, oldest first, with their unit codes."""
    query = (select(Unit.code, GapReview).join(Unit, Unit.id == GapReview.unit_id)
             .where(GapReview.state == ReviewState.DISPUTED).order_by(GapReview.reviewed_at, GapReview.id))
    if unit_ids is not None:
        query = query.where(GapReview.unit_id.in_(set(unit_ids)))
    return [(code, review) for code, review in session.execute(query)]


def _summary(review: GapReview | None) -> dict | None:
    if review is None:
        return None
    return {"category": review.category_code, "state": review.state.value, "shortfall": review.shortfall,
            "comment": review.comment, "resolution": review.resolution}
