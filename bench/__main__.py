"""``python -m bench [NAME [options]]``: run one benchmark by name, or every one with its defaults.

A benchmark is any module of this package with a ``main()`` function; NAME is its module name
(``trainings_page``, ``imports``...) or a short alias (``import``, ``trainings``).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

ALIASES = {"import": "imports", "trainings": "trainings_page"}


def benchmarks() -> list[str]:
    """Module names of the benchmarks, sorted; modules without ``main()`` are helpers."""
    names = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("_"):
            continue
        if hasattr(importlib.import_module(f"bench.{info.name}"), "main"):
            names.append(info.name)
    return sorted(names)


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        print("benchmarks: " + ", ".join(benchmarks()))
        return
    if args:
        name = ALIASES.get(args[0], args[0])
        if name not in benchmarks():
            sys.exit(f"unknown benchmark {args[0]!r}; one of: {', '.join(benchmarks())}")
        selected = [(name, args[1:])]
    else:
        selected = [(name, []) for name in benchmarks()]
    for name, rest in selected:
        print(f"== {name}", flush=True)
        sys.argv = [f"bench {name}", *rest]
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main()
