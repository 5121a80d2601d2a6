"""Loading reference data from the seed files (idempotent upsert by code)."""
from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select

from .. import signals
from ..extensions import db
from ..i18n import current_lang
from .models import REFERENCE_MODELS, AdminUnit

SEEDS = Path(__file__).resolve().parent / "seeds"
BOOL_COLUMNS = {"is_city", "is_clinical", "is_advanced_training", "voluntary", "leaves_sector", "abroad",
                "retirement", "death", "transfer"}
INT_COLUMNS = {"level", "population", "cpd_hours_required", "cpd_credits_required"}
#: Further seed files of a model, loaded right after its main file, in order (children after their
#: parents): the KATO districts and cities of regional significance (level 2) under the regions
#: (level 1), then the cities of district significance (level 3) under their districts.
FOLLOW_UPS = {"admin_units": ("kato_districts", "kato_cities")}


def _convert(key: str, value: str):
    if value == "":
        return None
    if key in BOOL_COLUMNS:
        return value.strip() in ("1", "true", "yes")
    if key in INT_COLUMNS:
        return int(value)
    return value


def load_file(model, path: Path) -> int:
    """Upsert the rows of one CSV seed file into ``model``; returns the number of rows read."""
    existing = {r.code: r for r in db.session.execute(select(model)).scalars()}
    n = 0
    with path.open(encoding="utf-8") as fh:
        # lines starting with '#' are the file's header notes (source and date of a classifier)
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    for row in rows:
        parent_code = row.pop("parent_code", None)
        data = {k: _convert(k, v) for k, v in row.items()}
        obj = existing.get(data["code"])
        if obj is None:
            obj = model(**data)
            db.session.add(obj)
            existing[obj.code] = obj
        else:
            for k, v in data.items():
                setattr(obj, k, v)
        if parent_code:
            obj.parent = existing.get(parent_code) or db.session.execute(
                select(model).where(model.code == parent_code)).scalar_one()
        n += 1
    db.session.flush()
    signals.reference_changed.send(model)
    return n


def load_reference(seeds: Path = SEEDS) -> dict[str, int]:
    """Load every seed file (parents first). Safe to run again: rows are matched by code."""
    counts = {}
    for stem, model in REFERENCE_MODELS.items():
        path = seeds / f"{stem}.csv"
        if path.exists():
            counts[stem] = load_file(model, path)
        for extra in FOLLOW_UPS.get(stem, ()):
            if (seeds / f"{extra}.csv").exists():
                counts[extra] = load_file(model, seeds / f"{extra}.csv")
    return counts


#: ``(model, language) -> (expires, {id: (code, name)})``: classifier names for resources built often
#: (FHIR codings); refreshed after ``NAMES_SECONDS`` or when reference data changes in this process.
_NAMES: dict = {}
NAMES_SECONDS = 60


def code_and_name(model, ids) -> dict[int, tuple[str, str]]:
    """``id -> (code, name in the current language)`` of the classifier rows ``ids`` (a process-wide
    cache: the API answers name the same few specialties thousands of times a minute)."""
    key = (model, current_lang())
    now = time.monotonic()
    expires, known = _NAMES.get(key, (0.0, {}))
    if expires <= now:
        expires, known = now + NAMES_SECONDS, {}
        _NAMES[key] = (expires, known)
    missing = {i for i in ids if i is not None and i not in known}
    if missing:
        for row in db.session.execute(select(model.id, model.code, model.name_column()).where(model.id.in_(missing))):
            known[row[0]] = (row[1], row[2] or "")
    return known


class Classified(NamedTuple):
    """A classifier row as a cached value (``by_code``): its id, code and name in the language it was
    read in; ``str()`` is the name, as of the model's row."""

    id: int
    code: str
    name: str

    def __str__(self) -> str:
        return self.name


def by_code(model, code: str) -> Classified | None:
    """The classifier row ``code`` of ``model`` as a ``Classified`` (id, code, name in the current
    language), or None: the process-wide cache of ``code_and_name`` (cleared when reference data
    changes). For hot read paths that need the row's id and name, not the ORM object (the API's
    admission check asks for a specialty by code thousands of times a minute)."""
    key = (model, current_lang(), "code")
    now = time.monotonic()
    expires, known = _NAMES.get(key, (0.0, {}))
    if expires <= now:
        expires, known = now + NAMES_SECONDS, {}
        _NAMES[key] = (expires, known)
    if code not in known:
        row = db.session.execute(select(model.id, model.code, model.name_column())
                                 .where(model.code == code)).first()
        known[code] = Classified(row[0], row[1], row[2] or "") if row is not None else None
    return known[code]


def forget_names(_sender=None, **_kw) -> None:
    _NAMES.clear()


signals.reference_changed.connect(forget_names)


def load_districts(path: Path) -> int:
    """Load lower-level KATO units from a CSV with code,name_kk,name_ru,name_en,level,parent_code
    (the shipped level-2 units are in ``seeds/kato_districts.csv``, the level-3 cities of district
    significance in ``seeds/kato_cities.csv``; both load with the reference data)."""
    return load_file(AdminUnit, path)


def names_by_id(model, ids) -> dict[int, dict]:
    """Code and the three names (kk/ru/en) of reference rows by id, for reports that store names in
    every language; admin units carry their population too."""
    ids = [i for i in set(ids) if i is not None]
    if not ids:
        return {}
    cols = [model.id, model.code, model.name_kk, model.name_ru, model.name_en]
    if model is AdminUnit:
        cols.append(model.population)
    out = {}
    for row in db.session.execute(select(*cols).where(model.id.in_(ids))):
        out[row.id] = {"code": row.code, "names": {"kk": row.name_kk, "ru": row.name_ru, "en": row.name_en}}
        if model is AdminUnit:
            out[row.id]["population"] = row.population
    return out
