"""Operations: health and readiness probes, request logs, Prometheus metrics (docs/operations.md)."""
