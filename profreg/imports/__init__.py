"""Bulk import of HR spreadsheets (issue 16): xlsx/csv files of workers, education, certificates and
CPD, validated row by row through the same services as the panel, written all-or-nothing per worker,
reported per row (docs/import.md)."""
