"""Reconciliation of the register with state registries (issue 20.7): the labour-contract system (ESUTD)
and accredited issuers' certificate registries, read from files through one adapter per source."""
