from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..admin.base import ScopedModelView
from ..admin.filters import ChoiceFilter, ReferenceFilter, date_range
from ..admin.record_actions import RecordActionsMixin
from ..admin.worker_records import WorkerSearchMixin, worker_inline, worker_record_attrs, worker_section
from ..reference.models import (
    AcademicDegreeType,
    AcademicTitleType,
    EducationLevel,
    PublicationType,
    QualificationCategoryType,
    Specialty,
)
from .models import (
    AcademicDegree,
    AcademicTitle,
    EducationDocument,
    EducationInstitution,
    Publication,
    QualificationCategory,
)

LABELS = {"worker": _l("Worker"), "kind": _l("Kind"), "level": _l("Education level"),
          "institution": _l("Education or science organization"), "specialty": _l("Specialty"),
          "qualification": _l("Qualification"), "series": _l("Series"), "number": _l("Number"),
          "issue_date": _l("Date of issue"), "graduation_year": _l("Year of graduation"),
          "degree_type": _l("Academic degree"), "title_type": _l("Academic title"), "field": _l("Field"),
          "award_date": _l("Date of award"), "diploma_number": _l("Diploma number"),
          "certificate_number": _l("Certificate number"), "category": _l("Qualification category"),
          "valid_until": _l("Valid until"), "order_number": _l("Order number"), "type": _l("Type"),
          "title": _l("Title"), "journal": _l("Journal or publisher"), "year": _l("Year"), "doi": "DOI",
          "isbn": "ISBN", "coauthors": _l("Co-authors"), "scopus": "Scopus", "wos": "Web of Science",
          "name": _l("Name of the organization"), "name_en": _l("Name (English)"), "country": _l("Country"), "bin": _l("BIN"),
          "city": _l("City")}
KIND_CHOICES = [("general", _l("General")), ("additional", _l("Additional")), ("postgraduate", _l("Postgraduate"))]


def _view(cols, **extra):
    if cols[0] == "worker":
        attrs = worker_record_attrs(cols, LABELS)
    else:
        attrs = {"column_list": cols, "column_details_list": cols, "column_export_list": cols, "form_columns": cols,
                 "column_labels": LABELS}
    attrs.update(extra)
    # a view over a worker record corrects and annuls it (admin/record_actions.py)
    bases = (WorkerSearchMixin, RecordActionsMixin, ScopedModelView) if cols[0] == "worker" else (ScopedModelView,)
    return type("V", bases, attrs)


EDUCATION_COLUMNS = ("kind", "level", "institution", "specialty", "qualification", "series", "number", "issue_date",
                     "graduation_year")
QUALIFICATION_COLUMNS = ("category", "specialty", "award_date", "valid_until", "order_number")

# This domain's parts of the worker page and of the worker's form (admin/worker_records.py).
# one tab of the worker card: education documents, then qualification categories
EDUCATION_TAB = _l("Education and qualifications")
worker_section("education", _l("Education documents"), EducationDocument, "issue_date",
               "education/_section_education.html", position=20, tab="education", tab_label=EDUCATION_TAB)
worker_section("qualifications", _l("Qualification categories"), QualificationCategory, "award_date",
               "education/_section_qualifications.html", position=21, tab="education")
worker_inline(EducationDocument, EDUCATION_COLUMNS, LABELS, {"kind": KIND_CHOICES}, position=10)
worker_inline(QualificationCategory, QUALIFICATION_COLUMNS, LABELS, position=40)


def register_views(admin):
    cat = _l("Education and qualification")
    edu = _view(("worker", *EDUCATION_COLUMNS), form_choices={"kind": KIND_CHOICES}, column_filters=[
        ChoiceFilter(EducationDocument.kind, _l("Kind"), KIND_CHOICES),
        ReferenceFilter(EducationDocument.level_id, _l("Education level"), EducationLevel),
        ReferenceFilter(EducationDocument.specialty_id, _l("Specialty"), Specialty),
        *date_range(EducationDocument.issue_date, _l("Date of issue"))])
    admin.add_view(edu(EducationDocument, name=_l("Education documents"), endpoint="education", category=cat))
    deg = _view(("worker", "degree_type", "field", "award_date", "diploma_number"), column_filters=[
        ReferenceFilter(AcademicDegree.degree_type_id, _l("Academic degree"), AcademicDegreeType),
        *date_range(AcademicDegree.award_date, _l("Date of award"))])
    admin.add_view(deg(AcademicDegree, name=_l("Academic degrees"), endpoint="degrees", category=cat))
    tit = _view(("worker", "title_type", "field", "award_date", "certificate_number"), column_filters=[
        ReferenceFilter(AcademicTitle.title_type_id, _l("Academic title"), AcademicTitleType),
        *date_range(AcademicTitle.award_date, _l("Date of award"))])
    admin.add_view(tit(AcademicTitle, name=_l("Academic titles"), endpoint="titles", category=cat))
    qc = _view(("worker", *QUALIFICATION_COLUMNS), column_filters=[
        ReferenceFilter(QualificationCategory.category_id, _l("Qualification category"), QualificationCategoryType),
        ReferenceFilter(QualificationCategory.specialty_id, _l("Specialty"), Specialty),
        *date_range(QualificationCategory.award_date, _l("Date of award")),
        *date_range(QualificationCategory.valid_until, _l("Valid until"))])
    admin.add_view(qc(QualificationCategory, name=_l("Qualification categories"), endpoint="qualifications",
                      category=cat))
    pub = _view(("worker", "type", "title", "journal", "year", "doi", "isbn", "coauthors", "scopus", "wos"),
                column_filters=[ReferenceFilter(Publication.type_id, _l("Type"), PublicationType)])
    admin.add_view(pub(Publication, name=_l("Publications"), endpoint="publications", category=cat))
    inst = _view(("name", "name_en", "kind", "country", "bin", "city"))
    admin.add_view(inst(EducationInstitution, name=_l("Education and science organizations"),
                        endpoint="institutions", category=_l("Reference data")))
