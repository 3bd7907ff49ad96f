"""The JSON contract: every key a result had before must still be there (later work adds, never
renames). The key lists were taken from runs made before the registries change
(tests/fixtures/result_keys_*.txt); children of mappings keyed by data (configs, class names) are
not listed."""

from __future__ import annotations

from pathlib import Path

OPEN = {"config", "start", "space", "class_balance", "kind_counts", "per_class", "test_metrics", "baseline_config",
        "defaults", "timings", "sequence_length"}
FIXTURES = Path(__file__).parent / "fixtures"


def key_paths(value, prefix: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found.add(path)
            if key not in OPEN:
                found |= key_paths(child, path)
    elif isinstance(value, list):
        for child in value:
            found |= key_paths(child, prefix + "[]")
    return found


def missing_keys(result: dict, kind: str) -> list[str]:
    """Keys of the stored list for `kind` (wine, ipd, notune) that `result` lacks."""
    kept = (FIXTURES / f"result_keys_{kind}.txt").read_text(encoding="utf-8").split()
    return sorted(set(kept) - key_paths(result))
