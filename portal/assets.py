"""Copies the front-end libraries installed by npm (package-lock.json) into the portal's
static folder, so the portal serves them itself: nothing is loaded from a CDN, and the
portal works on an intranet with no internet access. Run by ``make assets``."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = Path(__file__).resolve().parent / "static" / "vendor"

# package → files (relative to its folder in node_modules) the pages use.
FILES = {
    "tabulator-tables": ("dist/js/tabulator.min.js", "dist/css/tabulator_bootstrap3.min.css", "LICENSE"),
    # Apache ECharts: the analysis charts (zh and en built into the full bundle).
    "echarts": ("dist/echarts.min.js", "LICENSE", "NOTICE"),
}


def copy(node_modules: Path = ROOT / "node_modules", target: Path = VENDOR) -> list[Path]:
    copied = []
    for package, files in FILES.items():
        for name in files:
            source = node_modules / package / name
            if not source.exists():
                raise SystemExit(f"{source} is missing: run `npm ci` first")
            destination = target / package / Path(name).name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            copied.append(destination)
    return copied


if __name__ == "__main__":
    for path in copy():
        print(f"  {path.relative_to(ROOT)}", file=sys.stderr)
