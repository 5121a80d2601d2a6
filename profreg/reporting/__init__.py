"""The reporting cycle around the monthly report (rules 6-7): frozen submissions shared by every kind
(``models.FrozenSubmission``, ``frozen``), quarterly forecast submissions, the authorized body's receipts
and requests, the reporting calendar and the reminders (docs/reporting.md)."""
