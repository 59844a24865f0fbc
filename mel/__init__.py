"""mel: monitoring, evaluation and learning for Child Protection Compact partnerships."""

__version__ = "0.1.0"
