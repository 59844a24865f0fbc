"""Write the sample workbooks of imports/ from the catalog (see demo/samples.py and imports/README.md).

Run after a catalog change and commit the .xlsx files (they are byte-for-byte reproducible):

    .venv/bin/python scripts/make_sample_workbooks.py [--out imports] [--catalog-dir indicators]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from mel.cli import init_database
from mel.core.db import make_engine, make_sessionmaker
from mel.core.paths import IMPORTS_DIR, INDICATORS_DIR
from mel.core.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # demo/ sits beside mel/
from demo.samples import write_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMPORTS_DIR)
    parser.add_argument("--catalog-dir", type=Path, default=INDICATORS_DIR)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/samples.sqlite3", catalog_dir=args.catalog_dir)
        init_database(settings)
        engine = make_engine(settings.database_url)
        with make_sessionmaker(engine)() as session:
            written = write_samples(session, args.out)
        engine.dispose()
    for name in written:
        print(args.out / name)


if __name__ == "__main__":
    main()
