"""Organization rules."""
from __future__ import annotations

from sqlalchemy import update

from ..extensions import db
from ..workers.models import Employment


def region_of(unit):
    """The level-1 KATO unit (region or city of republican significance) above ``unit``."""
    while unit is not None and unit.parent is not None and unit.level > 1:
        unit = unit.parent
    return unit


def set_region(org) -> None:
    """Keep ``organization.region_id`` equal to the region of its KATO unit (scoping reads it)."""
    if org.unit is not None:
        org.region = region_of(org.unit)
        if org.id is not None and org.region is not None:
            # episodes carry the region too (region scoping reads it): keep them in step
            db.session.execute(update(Employment).where(Employment.organization_id == org.id)
                               .values(region_id=org.region.id).execution_options(synchronize_session=False))
