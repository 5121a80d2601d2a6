"""Import every domain's models so SQLAlchemy metadata (and Alembic) sees all tables."""
from .audit.models import AuditLog  # noqa: F401
from .auth.models import User, user_specialty  # noqa: F401
from .certificates.models import Certificate  # noqa: F401
from .documents.models import PersonnelDocument  # noqa: F401
from .education.models import (  # noqa: F401
    AcademicDegree,
    AcademicTitle,
    EducationDocument,
    EducationInstitution,
    Publication,
    QualificationCategory,
)
from .memo import shared_figure  # noqa: F401
from .orgs.models import Organization, StaffingPosition  # noqa: F401
from .reference.models import *  # noqa: F401,F403
from .training.models import CpdRecord  # noqa: F401
from .workers.models import Employment, Worker  # noqa: F401

# Domains that add tables later import them here, one line each:
for _mod in ("workdays", "notifications", "reporting", "monitoring", "jobs", "imports", "api", "reconciliation"):
    try:
        __import__(f"profreg.{_mod}.models")
    except ModuleNotFoundError as exc:  # domain not present (yet)
        if f"profreg.{_mod}.models" not in str(exc) and f"profreg.{_mod}" not in str(exc):
            raise
