"""Rules: the engine and the catalog that turn a profile into a ranked choice of model family."""

from rules.catalog import RULES
from rules.engine import Decision, Excluded, Ranked, RuleResult, contenders, decide, settle

__all__ = ["RULES", "Decision", "Excluded", "Ranked", "RuleResult", "contenders", "decide", "settle"]
