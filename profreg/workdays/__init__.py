"""Working days (rule 8): Kazakhstan's working-day calendar (the ``holidays`` KZ calendar plus the
ministry's overrides) and the 3-working-day entry deadline, shared by the workers, monitoring,
analytics and the dashboard."""
