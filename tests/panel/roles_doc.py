"""The role matrix as documented: the table "Matrix (role × resource → actions)" of docs/roles.md,
parsed into ``{role: {resource: frozenset(actions)}}``. The role-matrix test takes its expected rights
from here, not from ``profreg.access``; a test checks that the two agree cell by cell."""
from __future__ import annotations

from pathlib import Path

ROLES_MD = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
HEADING = "## Matrix (role × resource → actions)"
LETTERS = {"L": "list", "D": "details", "C": "create", "E": "edit", "X": "delete", "Ex": "export",
           "A": "approve", "S": "submit", "Rc": "receive", "Aw": "answer", "En": "end", "Co": "correct", "An": "annul", "Cf": "confirm"}
NONE = "—"

# docs/roles.md, association: "certificates, CPD records, education documents and qualification
# categories" (rule 4.5) — the only worker-record views an association opens.
RULE_4_5_MODELS = frozenset({"Certificate", "CpdRecord", "EducationDocument", "QualificationCategory"})


def _cells(line: str) -> list[str]:
    return [c.strip().strip("`").strip() for c in line.strip().strip("|").split("|")]


def parse_matrix(text: str) -> dict[str, dict[str, frozenset[str]]]:
    _, found, section = text.partition(HEADING)
    if not found:
        raise ValueError(f"no {HEADING!r} section")
    lines = section.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
    table = []
    for ln in lines[start:]:
        if not ln.startswith("|"):
            break
        table.append(ln)
    header, separator, *rows = table
    if set(separator.replace("|", "").strip()) - {"-", ":", " "}:
        raise ValueError(f"not a table separator: {separator!r}")
    first, *roles = _cells(header)
    if first != "resource":
        raise ValueError(f"unexpected table header {header!r}")
    matrix: dict[str, dict[str, frozenset[str]]] = {role: {} for role in roles}
    for row in rows:
        resource, *cells = _cells(row)
        if len(cells) != len(roles):
            raise ValueError(f"row {resource!r} has {len(cells)} cells for {len(roles)} roles")
        for role, cell in zip(roles, cells, strict=True):
            if cell == NONE:
                matrix[role][resource] = frozenset()
                continue
            unknown = [t for t in cell.split() if t not in LETTERS]
            if unknown:
                raise ValueError(f"{resource} × {role}: unknown action letters {unknown}")
            matrix[role][resource] = frozenset(LETTERS[t] for t in cell.split())
    return matrix


def documented_matrix() -> dict[str, dict[str, frozenset[str]]]:
    return parse_matrix(ROLES_MD.read_text(encoding="utf-8"))


DOCUMENTED = documented_matrix()
