"""Import files for the tests: a workbook of N workers (physicians and nurses with their certificates
and diplomas), with the five bad rows of the issue's acceptance test on request."""
from __future__ import annotations

import csv
from datetime import date, timedelta

from openpyxl import Workbook

from tests.factories import next_iin

WORKER_KEYS = ["iin", "surname", "name", "patronymic", "sex", "birth_date", "birth_place", "citizenship",
               "id_doc_type", "id_doc_number", "id_doc_issuer", "id_doc_issued_on", "id_doc_valid_until",
               "residence", "registration_place", "registration_date", "email", "phone", "org_bin", "position",
               "specialty", "hired_on", "fte", "department", "order_number"]
CERT_KEYS = ["iin", "number", "specialty", "issuer", "issued_on", "valid_until"]
EDU_KEYS = ["iin", "kind", "level", "institution", "specialty", "qualification", "series", "number", "issued_on",
            "graduation_year"]
BAD = ("bad_check_digit", "birth_mismatch", "unknown_position", "no_id_document", "physician_no_certificate")


def _bad_check_digit(iin: str) -> str:
    return iin[:11] + str((int(iin[11]) + 1) % 10)


def build(n: int, org_bin: str, institution: str, *, bad: bool = True, start: int = 0, today=date(2026, 11, 25)):
    """(workers rows, certificates rows, education rows, {bad kind: iin}) as dicts keyed by column key."""
    workers, certs, edu, bad_iins = [], [], [], {}
    for i in range(start, start + n):
        physician = i % 2 == 0
        sex = "F" if i % 3 else "M"
        birth = date(1970 + i % 30, 1 + i % 12, 1 + i % 27)
        iin = next_iin(birth, sex)
        row = {"iin": iin, "surname": f"Тестова{i}" if sex == "F" else f"Тестов{i}", "name": "Айгүл" if sex == "F"
               else "Ерлан", "patronymic": None, "sex": "ж" if sex == "F" else "M",
               "birth_date": birth.strftime("%d.%m.%Y"), "birth_place": "г. Алматы", "citizenship": "Казахстан",
               "id_doc_type": "ID_CARD", "id_doc_number": f"0{45612000 + i}", "id_doc_issuer": "МВД РК",
               "id_doc_issued_on": date(2020, 1, 1), "id_doc_valid_until": "2030-01-01",
               "residence": "Астана, ул. Сарыарка 1", "registration_place": "Астана",
               "registration_date": "01.09.2019", "email": f"w{i}@example.kz", "phone": "+77011234567",
               "org_bin": org_bin, "position": "Врач" if physician else "Медицинская сестра",
               "specialty": "THERAPY" if physician else "сестринское  ДЕЛО", "hired_on": "10.01.2024",
               "fte": "1,0" if i % 4 else 1, "department": "Терапия", "order_number": f"{i}-к"}
        cert = {"iin": iin, "number": f"KZ-IMP-{i:06d}", "specialty": "THERAPY" if physician else "NURSING",
                "issuer": "НЦНЭ", "issued_on": "01.02.2022", "valid_until": (today + timedelta(days=900)).isoformat()}
        diploma = {"iin": iin, "kind": "general", "level": "Бакалавриат" if physician else "TVET",
                   "institution": institution, "specialty": None, "qualification": "Врач" if physician else "Медсестра",
                   "series": "ЖБ", "number": f"{100000 + i}", "issued_on": "30.06.2010", "graduation_year": 2010}
        kind = BAD[i - start] if bad and i - start < len(BAD) else None
        if kind == "bad_check_digit":
            iin = _bad_check_digit(iin)
            row["iin"] = cert["iin"] = diploma["iin"] = iin
        elif kind == "birth_mismatch":
            row["birth_date"] = (birth + timedelta(days=1)).strftime("%d.%m.%Y")
        elif kind == "unknown_position":
            row["position"] = "Космонавт"
        elif kind == "no_id_document":
            row.update(id_doc_type=None, id_doc_number=None, id_doc_issuer=None, id_doc_issued_on=None)
        elif kind == "physician_no_certificate":
            row["position"], row["specialty"] = "DOCTOR", "THERAPY"
            cert = None
        if kind:
            bad_iins[kind] = iin
        workers.append(row)
        edu.append(diploma)
        if cert:
            certs.append(cert)
    return workers, certs, edu, bad_iins


def write_xlsx(path, workers, certs, edu, *, headers=None) -> None:
    wb = Workbook()
    first = wb.active
    first.title = "workers"
    for keys, rows, ws in ((WORKER_KEYS, workers, first),
                           (CERT_KEYS, certs, wb.create_sheet("certificates")),
                           (EDU_KEYS, edu, wb.create_sheet("education"))):
        ws.append([(headers or {}).get(k, k) for k in keys])
        for row in rows:
            ws.append([row.get(k) for k in keys])
    wb.save(path)


def write_csv(path, rows, keys, *, encoding="cp1251", delimiter=";") -> None:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(keys)
        for row in rows:
            w.writerow(["" if row.get(k) is None else (row[k].strftime("%d.%m.%Y") if isinstance(row[k], date)
                                                        else row[k]) for k in keys])
