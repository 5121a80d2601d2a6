"""Rule 8 at entry (docs/integrity.md, "Entry and currency"): a worker is first registered only with
the identity document, residence, registration and an education document; a non-resident enters a
foreign identity document. Records stored without them still open and save, and are on the
data-currency worklist."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from profreg.analytics.currency import EDUCATION, MANDATORY, worklist
from profreg.errors import InvalidInput
from profreg.identity import check_digit
from profreg.reference.models import Country, IdentityDocumentType, Position
from profreg.workers.models import ENTRY_COLUMNS, Worker
from profreg.workers.services import ENTRY_FIELDS, entry_errors, register_worker
from tests.factories import next_iin
from tests.panel.conftest import parse_form

#: What the Create page says under an empty rule-8 field and without an education document.
REQUIRED = {"en": "Required when a worker is registered (rule 8).",
            "ru": "Обязательно при регистрации работника (пункт 8 Правил).",
            "kk": "Қызметкерді тіркеу кезінде міндетті (Қағидалардың 8-тармағы)."}
EDUCATION_NEEDED = {"en": "Add at least one education document (rule 8).",
                    "ru": "Добавьте хотя бы один документ об образовании (пункт 8 Правил).",
                    "kk": "Кемінде бір білім туралы құжат қосыңыз (Қағидалардың 8-тармағы)."}


def non_resident_iin(serial: int = 1) -> str:
    """A valid IIN with digit 7 = 0 (a non-resident: no date of birth or sex in it)."""
    while True:
        first11 = f"850315{0}{serial:04d}"
        cd = check_digit(first11)
        if cd is not None:
            return first11 + str(cd)
        serial += 1


def _create_data(world, client, *, iin, lang="en", citizenship="KZ", **values) -> MultiDict:
    ref = world.factory.ref
    form = parse_form(client.get(f"/admin/workers/new/?lang={lang}").get_data(as_text=True))
    data = MultiDict(form.data)
    fields = {"iin": iin, "surname": "Жұмабекова", "name": "Ләззат", "sex": "F", "birth_date": "1990-05-17",
              "birth_place": "Қарағанды", "citizenship": str(ref(Country, citizenship).id),
              "hire_position": str(ref(Position, "CHIEF_DOCTOR").id), "hire_date": "2026-11-23", "hire_fte": "1.00",
              **world.factory.entry_form(), **values}
    for k, v in fields.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


def _field_errors(html: str) -> dict[str, list[str]]:
    """Messages shown under each field of a Flask-Admin form: {field id: [message, ...]}."""
    out: dict[str, list[str]] = {}
    for chunk in html.split('<div class="form-group')[1:]:
        name = re.search(r'<label for="([^"]+)"', chunk)
        blocks = re.findall(r'<div class="invalid-feedback">(.*?)</div>', chunk, re.S)
        errors = [e.strip() for b in blocks for e in re.findall(r"<li>([^<]+)</li>", b)]
        if name and errors:
            out.setdefault(name.group(1), []).extend(errors)
    return out


def _workers():
    from profreg.extensions import db

    return db.session.execute(select(func.count()).select_from(Worker)).scalar()


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_a_new_worker_without_an_identity_document_is_not_saved(world, make_client, lang):
    hr = make_client(world.users["hr"])
    data = _create_data(world, hr, iin=next_iin(date(1990, 5, 17), "F"), lang=lang, id_doc_type="",
                        id_doc_number="", id_doc_issuer="", id_doc_issued="")
    before = _workers()
    resp = hr.post(f"/admin/workers/new/?lang={lang}", data=data)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    errors = _field_errors(html)
    for field in ("id_doc_type", "id_doc_number", "id_doc_issuer", "id_doc_issued"):
        assert errors.get(field) == [REQUIRED[lang]], (field, errors)
    assert "residence_address" not in errors and "registration_date" not in errors
    assert _workers() == before


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_a_new_worker_without_residence_registration_or_education_is_not_saved(world, make_client, lang):
    hr = make_client(world.users["hr"])
    data = _create_data(world, hr, iin=next_iin(date(1990, 5, 17), "F"), lang=lang, residence_address=" ",
                        registration_place="", registration_date="")
    for key in [k for k in data if k.startswith("education_documents-")]:
        data.pop(key)
    resp = hr.post(f"/admin/workers/new/?lang={lang}", data=data)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    errors = _field_errors(html)
    for field in ("residence_address", "registration_place", "registration_date"):
        assert errors.get(field) == [REQUIRED[lang]], (field, errors)
    assert EDUCATION_NEEDED[lang] in html
    assert _workers() == 3


def test_the_required_fields_are_marked_on_the_create_form_only(world, make_client):
    hr = make_client(world.users["hr"])
    create = hr.get("/admin/workers/new/").get_data(as_text=True)
    edit = hr.get(f"/admin/workers/edit/?id={world.wA.id}").get_data(as_text=True)

    def starred(html, field):
        return re.search(rf'<label for="{field}"[^>]*>[^<]*<strong class="text-danger">', html) is not None

    for field in ENTRY_FIELDS:
        assert starred(create, field), field
        assert not starred(edit, field), field
    assert not re.search(r'<select[^>]*name="id_doc_type"[^>]*required', create)  # select2 hides it


def test_a_non_resident_with_a_foreign_passport_is_registered(world, make_client):
    hr = make_client(world.users["hr"])
    iin = non_resident_iin()
    resp = hr.post("/admin/workers/new/", data=_create_data(
        world, hr, iin=iin, citizenship="RU", id_doc_type=str(world.factory.ref(IdentityDocumentType,
                                                                                 "FOREIGN_PASSPORT").id),
        id_doc_number="75 1234567", id_doc_issuer="МВД России"))
    assert resp.status_code == 302, _field_errors(resp.get_data(as_text=True))
    from profreg.extensions import db

    worker = db.session.execute(select(Worker).where(Worker.iin == iin)).scalar_one()
    assert worker.id_doc_type.code == "FOREIGN_PASSPORT" and len(worker.education_documents) == 1


def test_the_identity_document_follows_the_person(world, make_client):
    hr = make_client(world.users["hr"])
    ref = world.factory.ref

    def doc(code):
        return str(ref(IdentityDocumentType, code).id)

    non_resident = hr.post("/admin/workers/new/", data=_create_data(
        world, hr, iin=non_resident_iin(), citizenship="RU", id_doc_type=doc("ID_CARD")))
    assert "A non-resident (IIN digit 7 = 0) enters a foreign identity document" in \
        " ".join(_field_errors(non_resident.get_data(as_text=True)).get("id_doc_type", []))
    citizen = hr.post("/admin/workers/new/", data=_create_data(
        world, hr, iin=next_iin(date(1990, 5, 17), "F"), id_doc_type=doc("RESIDENCE_PERMIT")))
    assert "A citizen of Kazakhstan enters a Kazakh identity document" in \
        " ".join(_field_errors(citizen.get_data(as_text=True)).get("id_doc_type", []))
    assert _workers() == 3
    # a foreign citizen living in Kazakhstan (a resident IIN) holds a residence permit
    resident = hr.post("/admin/workers/new/", data=_create_data(
        world, hr, iin=next_iin(date(1990, 5, 17), "F"), citizenship="KG", id_doc_type=doc("RESIDENCE_PERMIT")))
    assert resident.status_code == 302


def test_the_service_refuses_an_incomplete_entry_on_every_path(world):
    """``register_worker`` (the import and the API call it too) applies the same rule as the form."""
    ref = world.factory.ref
    worker = Worker(iin=next_iin(date(1990, 5, 17), "F"), surname="Толықсыз", name="Айгүл", sex="F",
                    birth_date=date(1990, 5, 17), birth_place="Астана", citizenship=ref(Country, "KZ"))
    with pytest.raises(InvalidInput) as refused:
        register_worker(worker, actor_organization=world.orgA, position=ref(Position, "NURSE"),
                        hire_date=date(2026, 11, 23))
    assert set(refused.value.errors) == {*ENTRY_FIELDS, "education_documents"}
    assert _workers() == 3
    # the one rule, field by field
    complete = dict(iin=worker.iin, citizenship_code="KZ", id_doc_type_code="ID_CARD", id_doc_number="1",
                    id_doc_issuer="МВД РК", id_doc_issued=date(2020, 1, 1), residence_address="Астана",
                    registration_place="Астана", registration_date=date(2020, 1, 1), education_documents=1)
    assert entry_errors(**complete) == {}
    assert set(entry_errors(**{**complete, "id_doc_issuer": "  "})) == {"id_doc_issuer"}
    assert set(entry_errors(**{**complete, "education_documents": 0})) == {"education_documents"}
    # the form fields and the columns the data-currency worklist checks are the same
    assert [c.removesuffix("_id") for c in ENTRY_COLUMNS] == list(ENTRY_FIELDS) and MANDATORY == ENTRY_COLUMNS


def test_an_incomplete_record_stored_before_still_opens_saves_and_is_on_the_worklist(world, make_client, today):
    """wA was stored without any rule-8 field but his education document: the edit page opens and
    saves a change, nothing stored is lost, and the worklist names exactly what is missing."""
    from profreg.extensions import db

    wa = world.wA
    assert wa.id_doc_number is None and wa.residence_address is None
    hr = make_client(world.users["hr"])
    url = f"/admin/workers/edit/?id={wa.id}"
    page = hr.get(url)
    assert page.status_code == 200
    data = MultiDict(parse_form(page.get_data(as_text=True)).data)
    data["phone"] = "+77010000002"
    resp = hr.post(url, data=data)
    assert resp.status_code == 302, _field_errors(resp.get_data(as_text=True))
    db.session.expire_all()
    worker = db.session.get(Worker, wa.id)
    assert worker.phone == "+77010000002" and worker.id_doc_number is None
    assert len(worker.education_documents) == 1  # the record's own rows stay
    row, = [r for r in worklist(world.orgA.id, today=today) if r["worker"].id == wa.id]
    assert row["missing"] == list(MANDATORY)  # his education document is in force
    # without an education document in force the worklist says so too
    edu = worker.education_documents[0]
    db.session.execute(update(type(edu)).where(type(edu).id == edu.id).values(annulled_at=worker.updated_at))
    db.session.commit()
    row, = [r for r in worklist(world.orgA.id, today=today) if r["worker"].id == wa.id]
    assert row["missing"] == [*MANDATORY, EDUCATION]
    # the page shows the fields by their names, in the reader's language
    head = make_client(world.users["hr_chief"])
    text = head.get("/admin/data-currency/?lang=ru").get_data(as_text=True)
    assert "Документ об образовании" in text and "Кем выдан" in text and "id_doc_issuer" not in text


def test_a_complete_record_is_not_listed_as_incomplete(world, make_client, today):
    hr = make_client(world.users["hr"])
    iin = next_iin(date(1990, 5, 17), "F")
    assert hr.post("/admin/workers/new/", data=_create_data(world, hr, iin=iin)).status_code == 302
    from profreg.extensions import db

    worker = db.session.execute(select(Worker).where(Worker.iin == iin)).scalar_one()
    assert worker.id not in {r["worker"].id for r in worklist(world.orgA.id, today=today)}
