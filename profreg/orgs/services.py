"""Organization rules."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..errors import DomainError
from ..extensions import db
from ..hygiene import NEGATIVE_MESSAGE, TOO_LARGE_MESSAGE, number_error
from ..reference.models import AdminUnit
from ..workers.models import Employment

#: KATO levels: 1 = region or city of republican significance, 2 = district, city of regional
#: significance or district of a city of republican significance (rule 4.1); 3 = a city of district
#: significance, whose district is its level-2 parent.
REGION_LEVEL, DISTRICT_LEVEL = 1, 2


def region_of(unit):
    """The level-1 KATO unit (region or city of republican significance) above ``unit``."""
    while unit is not None and unit.parent is not None and unit.level > REGION_LEVEL:
        unit = unit.parent
    return unit


def district_of(unit):
    """The level-2 KATO unit (district) at or above ``unit``; None for a region itself."""
    while unit is not None and (unit.level or 0) > DISTRICT_LEVEL and unit.parent is not None:
        unit = unit.parent
    return unit if unit is not None and unit.level == DISTRICT_LEVEL else None


def districts_select(region_id: int | None):
    """SELECT of the districts (level-2 units) of a region, in code order; every district without one."""
    q = select(AdminUnit).where(AdminUnit.level == DISTRICT_LEVEL)
    if region_id is not None:
        q = q.where(AdminUnit.parent_id == region_id)
    return q.order_by(AdminUnit.code)


def set_region(org) -> None:
    """Keep ``organization.region_id`` equal to the region of its KATO unit (scoping reads it), and its
    district consistent: a unit that is (or lies in) a district sets the district; otherwise the district
    given must be one of the region's (rule 4.1; none = "district not set")."""
    if org.unit is not None:
        org.region = region_of(org.unit)
        if org.id is not None and org.region is not None:
            # episodes carry the region too (region scoping reads it): keep them in step
            db.session.execute(update(Employment).where(Employment.organization_id == org.id)
                               .values(region_id=org.region.id).execution_options(synchronize_session=False))
    set_district(org)


def set_district(org) -> None:
    """The district of an organization: the district of its KATO unit when the unit is one (or lies
    in one); else the district chosen, which must be a district of the organization's region."""
    derived = district_of(org.unit) if org.unit is not None else None
    if derived is not None:
        org.district = derived
        return
    district = org.district if org.district is not None else (
        db.session.get(AdminUnit, org.district_id) if org.district_id else None)
    if district is None:
        return
    region_id = org.region.id if org.region is not None else org.region_id
    if district.level != DISTRICT_LEVEL or district.parent_id != region_id:
        raise DomainError(_l("Choose a district of the organization's region."), field="district")


# ------------------------------------------------------------------------------- staffing tables
#: The largest approved FTE a staffing line holds (``staffing_position.approved_fte`` is NUMERIC(7, 2)).
MAX_FTE = Decimal("99999.99")
FTE_REQUIRED = _l("Required.")
FTE_HUNDREDTHS = _l("At most two decimal places.")


def staffing_line_errors(approved_fte) -> dict:
    """The rule of a line of a staffing table (the panel's ``StaffingView`` and the bulk import):
    ``{"approved_fte": message}`` when the approved FTE is missing, not a finite number, negative, finer
    than hundredths (the column keeps two decimals: 0.125 would be saved as 0.13 on PostgreSQL) or
    beyond the column; ``{}`` when the line may be saved."""
    if approved_fte is None:
        return {"approved_fte": FTE_REQUIRED}
    error = number_error(approved_fte)
    if error:
        return {"approved_fte": error}
    fte = Decimal(str(approved_fte))
    if fte < 0:
        return {"approved_fte": NEGATIVE_MESSAGE}
    if fte > MAX_FTE:
        return {"approved_fte": TOO_LARGE_MESSAGE}
    if fte != fte.quantize(Decimal("0.01")):
        return {"approved_fte": FTE_HUNDREDTHS}
    return {}
