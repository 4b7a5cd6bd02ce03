"""Deterministic demo data: `guanxi demo --customers N --seed S`."""
