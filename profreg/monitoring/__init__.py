"""Monitoring (rules 6, 11-13): the monthly monitoring report and its reporting calendar
(draft -> submitted snapshot with checksum), exports and CLI. The working-day calendar is in
``profreg/workdays``."""
