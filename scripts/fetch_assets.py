"""Fetch the pinned front-end assets from the npm registry into mel/static/vendor (no CDN at run time).

Runs `npm pack NAME@VERSION` (the registry checks the tarball's integrity), extracts the one file
the app serves, and records what it fetched. Re-running with the same pins does nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "mel" / "static" / "vendor"

# package, version, file inside the package, name served under /static/vendor/
PINS = [
    ("htmx.org", "2.0.8", "package/dist/htmx.min.js", "htmx.min.js"),
    ("chart.js", "4.5.1", "package/dist/chart.umd.min.js", "chart.umd.min.js"),
    ("swagger-ui-dist", "5.35.0", "package/swagger-ui-bundle.js", "swagger-ui-bundle.js"),
    ("swagger-ui-dist", "5.35.0", "package/swagger-ui.css", "swagger-ui.css"),
]


def main() -> int:
    VENDOR.mkdir(parents=True, exist_ok=True)
    manifest_path = VENDOR / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for package, version, member, target in PINS:
        out = VENDOR / target
        if out.exists() and manifest.get(target) == f"{package}@{version}":
            continue
        with tempfile.TemporaryDirectory() as tmp:
            result = subprocess.run(
                ["npm", "pack", f"{package}@{version}", "--silent", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                print(f"npm pack {package}@{version} failed:\n{result.stderr}", file=sys.stderr)
                return 1
            tarball = next(Path(tmp).glob("*.tgz"))
            with tarfile.open(tarball) as tar:
                extracted = tar.extractfile(member)
                if extracted is None:
                    print(f"{member} not found in {package}@{version}", file=sys.stderr)
                    return 1
                out.write_bytes(extracted.read())
        manifest[target] = f"{package}@{version}"
        print(f"fetched {package}@{version} -> static/vendor/{target}")
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
