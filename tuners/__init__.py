"""Tuners: search spaces (declared once, translated per backend), trainables and backends.

Empty until the tuning issue lands; the pipeline stops after the decision.
"""
