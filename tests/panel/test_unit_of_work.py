"""The unit of work (profreg/uow.py): one commit per request, nothing written on a refusal, 403 for
``NotAllowed``, the CLI and jobs through the same unit, follow-ups only after the commit."""
from __future__ import annotations

import re
from datetime import date

import pytest
from flask import get_flashed_messages
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from profreg import uow
from profreg.errors import DomainError, InvalidInput, NotAllowed
from profreg.extensions import db
from profreg.monitoring.models import MonitoringReport
from profreg.reference.models import Country
from profreg.workers.models import Employment, Worker

from .conftest import parse_form


@pytest.fixture
def commits():
    """Counts the session commits (``Session.after_commit``) made while the test runs."""
    seen = []

    def count(session):
        seen.append(session)

    event.listen(Session, "after_commit", count)
    yield seen
    event.remove(Session, "after_commit", count)


def _workers():
    return db.session.execute(select(func.count()).select_from(Worker)).scalar()


def test_a_panel_save_is_one_commit_at_the_end_of_the_request(world, make_client, commits):
    """Flask-Admin's create_model commits by itself; through ``PanelSession`` that is a flush, and the
    request commits once: the new worker, his first episode and their audit entries together."""
    hr = make_client(world.users["hr_chief"])
    form = parse_form(hr.get("/admin/workers/new/").get_data(as_text=True))
    data = dict(form.data)
    ref = world.factory.ref
    from profreg.reference.models import Position

    data.update({"iin": "870412400016", "surname": "Серікова", "name": "Дана", "sex": "F",
                 "birth_date": "1987-04-12", "birth_place": "Астана", "citizenship": str(ref(Country, "KZ").id),
                 # a non-clinical post: a clinical one needs a certificate (tests/certificates/test_admission.py)
                 "hire_position": str(ref(Position, "ECONOMIST").id), "hire_date": "2026-11-20",
                 **world.factory.entry_form()})
    test_session = db.session()  # the request runs on a session of its own (a fresh app context)
    before = len(commits)
    resp = hr.post("/admin/workers/new/", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert len([s for s in commits[before:] if s is not test_session]) == 1
    worker = db.session.execute(select(Worker).where(Worker.iin == "870412400016")).scalar_one()
    assert db.session.execute(select(Employment).where(Employment.worker_id == worker.id)).scalar_one()


def test_a_refused_panel_save_writes_nothing_and_says_why(world, make_client):
    hr = make_client(world.users["hr_chief"])
    form = parse_form(hr.get("/admin/workers/new/").get_data(as_text=True))
    data = dict(form.data)
    data.update({"iin": "870412400016", "surname": "Серікова", "name": "Дана", "sex": "F",
                 "birth_date": "1987-04-12", "birth_place": "Астана",
                 "citizenship": str(world.factory.ref(Country, "KZ").id),
                 "hire_date": "1990-01-01", **world.factory.entry_form()})  # hired at the age of two: refused
    from profreg.reference.models import Position

    data["hire_position"] = str(world.factory.ref(Position, "NURSE").id)
    before = _workers()
    resp = hr.post("/admin/workers/new/", data=data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "cannot be hired before the age of 16" in body
    assert _workers() == before  # the worker flushed before the refused episode is gone too


def test_a_domain_error_escaping_a_view_is_rolled_back_flashed_and_sent_back(app, factory):
    with app.test_request_context("/admin/x/", method="POST", headers={"Referer": "http://localhost/admin/workers/"}):
        db.session.add(Worker(iin="870412400016", surname="Серікова", name="Дана", sex="F",
                              birth_date=date(1987, 4, 12), birth_place="Астана",
                              citizenship=factory.ref(Country, "KZ")))
        db.session.flush()
        resp = uow._domain_error(DomainError("Бұл ереже бұзылды"))
        assert resp.status_code == 302 and resp.headers["Location"] == "/admin/workers/"
        assert get_flashed_messages(with_categories=True) == [("error", "Бұл ереже бұзылды")]
    assert _workers() == 0


def test_a_referrer_of_another_site_is_not_followed(app):
    with app.test_request_context("/admin/x/", method="POST", headers={"Referer": "https://evil.example/"}):
        resp = uow._domain_error(InvalidInput({"iin": "bad", "surname": "bad too"}))
        assert resp.headers["Location"] == "/admin/"
        assert [m for _c, m in get_flashed_messages(with_categories=True)] == ["bad", "bad too"]


def test_not_allowed_from_a_service_answers_403_and_writes_nothing(world, make_client, today):
    """A region coordinator asking for another region's report: the service refuses (``NotAllowed``)."""
    region = make_client(world.users["region"])
    page = region.get("/admin/monitoring/?period=2026-10").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    resp = region.post(f"/admin/monitoring/generate?period=2026-10&scope=region:{world.R2.id}",
                       data={"csrf_token": token, "period": "2026-10", "scope": f"region:{world.R2.id}"})
    assert resp.status_code == 403
    assert db.session.execute(select(func.count()).select_from(MonitoringReport)).scalar() == 0


def test_show_error_puts_messages_under_their_fields(app):
    from wtforms import Form, StringField

    class F(Form):
        iin = StringField()

    form = F()
    form.validate()
    with app.test_request_context("/"):
        uow.show_error(InvalidInput({"iin": "wrong check digit", "other": "whole form"}), form)
        assert form.iin.errors == ["wrong check digit"]
        assert get_flashed_messages() == ["whole form"]


def test_nested_units_join_the_outer_one_and_roll_back_together(factory):
    kz = factory.ref(Country, "KZ")
    with pytest.raises(DomainError):
        with uow.unit_of_work():
            with uow.unit_of_work():  # a job run inline: joins, does not commit
                db.session.add(Worker(iin="870412400016", surname="А", name="Б", sex="F",
                                      birth_date=date(1987, 4, 12), birth_place="-", citizenship=kz))
            raise DomainError("later in the same unit")
    assert _workers() == 0


def test_after_commit_runs_once_committed_and_never_after_a_rollback(db):
    ran = []
    with uow.unit_of_work():
        uow.after_commit(lambda: ran.append("kept"))
        assert ran == []
    assert ran == ["kept"]
    with pytest.raises(RuntimeError):
        with uow.unit_of_work():
            uow.after_commit(lambda: ran.append("dropped"))
            raise RuntimeError
    with uow.unit_of_work():
        pass
    assert ran == ["kept"]


def test_a_refusal_that_keeps_its_writes_is_committed(db, factory):
    from profreg.auth.services import LoginRefused, authenticate

    user = factory.user("hr", org=factory.org())
    with pytest.raises(LoginRefused):
        with uow.unit_of_work():
            authenticate(user.email, "wrong password")
    db.session.expire_all()
    assert user.failed_logins == 1


def test_cli_command_is_one_unit_and_a_refusal_is_a_clean_error(app, factory, today):
    from profreg.reference.models import Position

    org = factory.org()
    worker = factory.worker(org)
    worker.status = "blocked"  # no valid certificate: no clinical post
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["profreg", "workers", "hire", "--iin", worker.iin, "--org", org.bin,
                                 "--position", "NURSE", "--date", today.isoformat()])
    assert result.exit_code == 1 and "needs a specialist certificate valid on" in result.output
    assert len(worker.employments) == 1
    result = runner.invoke(args=["profreg", "workers", "hire", "--iin", worker.iin, "--org", org.bin,
                                 "--position", "ECONOMIST", "--date", today.isoformat()])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    positions = {e.position.code for e in db.session.get(Worker, worker.id).employments}
    assert positions == {"NURSE", "ECONOMIST"} and factory.ref(Position, "ECONOMIST")


def test_no_commit_or_rollback_outside_the_unit_of_work_module():
    """The acceptance rule of the house, kept by a test: only profreg/uow.py commits or rolls back."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "profreg"
    pattern = re.compile(r"session(\(\))?\.(commit|rollback)\(")
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "uow.py" and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_every_domain_error_derives_from_the_vocabulary():
    import importlib
    import inspect
    import pkgutil

    import profreg
    from profreg.errors import Refusal

    bad = []
    for info in pkgutil.walk_packages(profreg.__path__, "profreg."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and obj.__module__ == info.name and issubclass(obj, Exception) \
                    and not issubclass(obj, Refusal):
                bad.append(f"{info.name}.{name}")
    assert bad == [], "exception classes outside profreg/errors.py's vocabulary"
    assert not issubclass(NotAllowed, DomainError)  # a form never swallows a refusal of access
