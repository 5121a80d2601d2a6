"""The register's interfaces for other systems (issue 17): API tokens, the JSON API under ``/api/v1/``
and the read-only FHIR R4 API under ``/fhir/`` (docs/api.md)."""
