"""Monitoring (rules 6, 11-13): the working-day calendar, the monthly monitoring report and its
reporting calendar (draft -> submitted snapshot with checksum), exports and CLI."""
