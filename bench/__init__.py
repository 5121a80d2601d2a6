"""National-scale benchmarks (not part of the test run). Entry point: ``python -m bench all``."""
