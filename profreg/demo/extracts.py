"""Registry extracts for the demo (issue 20.7): a labour-contract extract (ESUTD) and a certificate
issuer's registry extract built from the synthetic country, with a known set of differences, so the
reconciliation has something to show and a test can check exactly what it finds.

The ESUTD extract of ``esutd_extract(orgs)`` holds a contract for every episode held today in those
organizations, except:

* 3 contracts of people the register does not know (hires not entered; started 1, 3 and 10 days ago);
* 2 episodes without a contract (the register holds them, the registry does not);
* 1 contract ended 5 days ago while its episode is still open (a dismissal not entered).

They are spread over the organizations given (the first gets 2 + 1 + 0, the second 1 + 1 + 1). Everything is
chosen by id and date, so the same register gives the same extract (a second ``profreg demo`` finds the same
items). The files follow docs/reconciliation.md; ``profreg/demo/data/`` holds small static examples.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from .. import clock
from ..certificates.models import Certificate
from ..extensions import db
from ..identity import make_iin
from ..orgs.models import Organization
from ..workers.models import Employment, Worker

MISSING_DAYS_AGO = (1, 3, 10)  # the starts of the contracts the register lacks
DISMISSED_DAYS_AGO = 5


@dataclass
class Expected:
    """What the reconciliation of the extract must find, per organization id: IINs by kind."""

    contract_missing: dict = field(default_factory=dict)
    no_contract: dict = field(default_factory=dict)
    dismissal_missing: dict = field(default_factory=dict)

    def add(self, kind: str, org_id: int, iin: str) -> None:
        getattr(self, kind).setdefault(org_id, []).append(iin)

    def items(self) -> set[tuple[str, int, str]]:
        return {(kind, org, iin) for kind in ("contract_missing", "no_contract", "dismissal_missing")
                for org, iins in getattr(self, kind).items() for iin in iins}


def _unknown_iins(n: int, start: int = 7000) -> list[str]:
    """``n`` valid IINs nobody in the register holds (born 1990-1992, serials from ``start``)."""
    out, serial = [], start
    while len(out) < n:
        birth = date(1990 + serial % 3, 1 + serial % 12, 1 + serial % 28)
        iin = make_iin(birth, "F" if serial % 2 else "M", serial)
        serial += 1
        if iin and iin not in out and not db.session.execute(select(Worker.id).where(Worker.iin == iin)).first():
            out.append(iin)
    return out


def esutd_extract(orgs: list[Organization], path: str | Path, today: date | None = None,
                  delimiter: str = ";", encoding: str = "utf-8") -> Expected:
    """Write the ESUTD extract of ``orgs`` (see the module's text) to ``path``; returns what it hides."""
    today = today or clock.today()
    plans = [(2, 1, 0), (1, 1, 1)] if len(orgs) > 1 else [(3, 2, 1)]
    expected, rows = Expected(), []
    unknown, starts = iter(_unknown_iins(3)), iter(MISSING_DAYS_AGO)
    for org, (missing, without, dismissed) in zip(orgs, plans, strict=False):
        episodes = db.session.execute(select(Employment).where(
            Employment.organization_id == org.id, Employment.running_on(today))
            .order_by(Employment.id)).scalars().all()
        skip = {e.id for e in episodes[:without]}
        for e in episodes[:without]:
            expected.add("no_contract", org.id, e.worker.iin)
        ended = [e for e in episodes[without:] if e.hire_date < today - timedelta(days=DISMISSED_DAYS_AGO)
                 and e.end_date is None][:dismissed]
        for e in episodes:
            if e.id in skip:
                continue
            end = e.end_date
            if e in ended:
                end = today - timedelta(days=DISMISSED_DAYS_AGO)
                expected.add("dismissal_missing", org.id, e.worker.iin)
            rows.append([e.worker.iin, org.bin, e.hire_date.strftime("%d.%m.%Y"),
                         end.strftime("%d.%m.%Y") if end else "", e.position.name_ru])
        for _n in range(missing):
            iin = next(unknown)
            rows.append([iin, org.bin, (today - timedelta(days=next(starts))).strftime("%d.%m.%Y"), "",
                         "Медицинская сестра"])
            expected.add("contract_missing", org.id, iin)
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(["iin", "employer_bin", "contract_start", "contract_end", "position"])
        writer.writerows(rows)
    return expected


def certificates_extract(org: Organization, path: str | Path, today: date | None = None) -> dict:
    """Write an issuer's registry extract for workers of ``org`` (Windows-1251, commas: what Excel saves as
    CSV on a Russian Windows): their certificates as the register holds them, except that the first one
    ends a year later in the registry (a certificate that differs), plus a second certificate of the next
    worker that the register lacks (a certificate missing). Returns {"differs": iin, "missing": iin}."""
    today = today or clock.today()
    certs = db.session.execute(
        select(Certificate).join(Employment, Employment.worker_id == Certificate.worker_id)
        .where(Employment.organization_id == org.id, Employment.running_on(today), Certificate.in_lists(),
               Certificate.valid_until.is_not(None)).order_by(Certificate.id)).scalars().unique().all()
    rows, out = [], {}
    for i, c in enumerate(certs[:6]):
        until = c.valid_until
        if i == 0:
            until = until.replace(year=until.year + 1)
            out["differs"] = c.worker.iin
        rows.append([c.worker.iin, c.number, c.specialty.code, c.issue_date.strftime("%d.%m.%Y"),
                     until.strftime("%d.%m.%Y")])
    if len(certs) > 1:
        c = certs[1]
        rows.append([c.worker.iin, f"{c.number}-2", c.specialty.code, (today - timedelta(days=20)).strftime("%d.%m.%Y"),
                     (today - timedelta(days=20)).replace(year=today.year + 5).strftime("%d.%m.%Y")])
        out["missing"] = c.worker.iin
    with open(path, "w", encoding="cp1251", newline="") as fh:
        writer = csv.writer(fh, delimiter=",")
        writer.writerow(["ИИН", "Номер сертификата", "Специальность", "Дата выдачи", "Действителен до"])
        writer.writerows(rows)
    return out


__all__ = ["Expected", "certificates_extract", "esutd_extract"]
