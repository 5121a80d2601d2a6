"""Reports' reads go to the read replica (``DATABASE_REPLICA_URL``), writes to the primary
(profreg/replica.py). Two SQLite files stand for the primary and a replica that lags behind it (the
benchmark, ``python -m bench replica``, shows it with a real PostgreSQL hot standby)."""
from __future__ import annotations

import shutil
from datetime import date

import pytest
from sqlalchemy import func, select

#: own apps on their own files, not the test's rolled-back connection
pytestmark = pytest.mark.commits


def _app(primary, replica=None):
    from profreg import create_app

    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{primary}",
              "RATELIMIT_STORAGE_URI": "memory://"}  # (the one limiter is re-initialised by every app built)
    if replica is not None:
        config["DATABASE_REPLICA_URL"] = f"sqlite:///{replica}"
    return create_app(config)


def _country(app):
    from profreg.extensions import db

    with app.app_context():
        db.create_all()


def _add_org(app, bin_, name):
    """An organization in a region of its own (the screens count organizations)."""
    from profreg.extensions import db
    from profreg.orgs.models import Organization
    from profreg.reference.models import AdminUnit
    from profreg.uow import unit_of_work

    with app.app_context(), unit_of_work():
        region = AdminUnit(code=bin_[-9:], name_kk=name, name_ru=name, name_en=name, level=1)
        db.session.add(region)
        db.session.flush()
        db.session.add(Organization(bin=bin_, name_kk=name, name_ru=name, name_en=name, unit_id=region.id,
                                    region_id=region.id))


def _org_names(app, *, from_replica: bool):
    from profreg import replica
    from profreg.extensions import db
    from profreg.orgs.models import Organization

    with app.app_context():
        if from_replica:
            with replica.reads():
                return set(db.session.execute(select(Organization.name_ru)).scalars())
        return set(db.session.execute(select(Organization.name_ru)).scalars())


def test_reads_inside_the_block_go_to_the_replica_and_writes_to_the_primary(tmp_path):
    primary, standby = tmp_path / "primary.db", tmp_path / "replica.db"
    app = _app(primary, standby)
    _country(app)
    _add_org(app, "000000000001", "Первая")
    shutil.copy(primary, standby)  # the replica has caught up to here...
    _add_org(app, "000000000002", "Вторая")  # ...and not yet to this
    assert _org_names(app, from_replica=False) == {"Первая", "Вторая"}
    assert _org_names(app, from_replica=True) == {"Первая"}

    # a write inside the block (a flush) still goes to the primary, and a read after the block too
    from profreg import replica
    from profreg.extensions import db
    from profreg.orgs.models import Organization
    from profreg.uow import unit_of_work

    with app.app_context(), unit_of_work(), replica.reads():
        region_id = db.session.execute(select(Organization.region_id)).scalars().first()  # (from the replica)
        db.session.add(Organization(bin="000000000003", name_kk="Третья", name_ru="Третья", name_en="Third",
                                    unit_id=region_id, region_id=region_id))
        db.session.flush()
    assert _org_names(app, from_replica=False) == {"Первая", "Вторая", "Третья"}
    assert _org_names(app, from_replica=True) == {"Первая"}


def test_the_live_report_screens_read_the_replica(tmp_path):
    """The live monthly report, the charts and the data-currency ranking are computed from the
    replica: with an empty replica (schema only) they see no organization, while the primary has one."""
    from profreg.analytics.charts import chart_data
    from profreg.analytics.currency import organization_currency
    from profreg.extensions import db
    from profreg.monitoring.services import Scope, compute_report
    from profreg.orgs.models import Organization
    from profreg.replica import reads

    primary, standby = tmp_path / "primary.db", tmp_path / "replica.db"
    app = _app(primary, standby)
    _country(app)
    shutil.copy(primary, standby)
    _add_org(app, "000000000001", "Первая")
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Organization)).scalar() == 1
        with reads():
            assert db.session.execute(select(func.count()).select_from(Organization)).scalar() == 0
        scope = Scope()  # the whole country
        # the decorated screens run against the (empty) replica without touching the primary's rows
        assert organization_currency(scope, today=date(2026, 11, 30)) == []
        assert chart_data(scope, today=date(2026, 11, 30)) is not None
        assert compute_report("2026-10", scope) is not None


def test_without_a_replica_the_block_reads_the_primary(tmp_path):
    app = _app(tmp_path / "only.db")
    _country(app)
    _add_org(app, "000000000001", "Единственная")
    assert _org_names(app, from_replica=True) == {"Единственная"}
