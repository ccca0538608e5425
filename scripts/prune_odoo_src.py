"""Keep only the LGPL-3 community addons of an Odoo source tree.

Some published 19.0 tarballs bundle community and enterprise addons together.
This project may only use the LGPL-3 ones, so this removes every addon whose
manifest licence is not LGPL-3, then every addon that depends (directly or
not) on an addon that is no longer there, so Odoo never sees a module it can't
install. Usage: python scripts/prune_odoo_src.py /path/to/odoo-19.0 [--dry-run]
"""

import ast
import pathlib
import shutil
import sys


def prune(src, dry_run=False):
    addons_dir = pathlib.Path(src, "odoo", "addons")
    manifests = {}
    for manifest in addons_dir.glob("*/__manifest__.py"):
        manifests[manifest.parent.name] = ast.literal_eval(manifest.read_text(encoding="utf-8"))
    keep = {name for name, m in manifests.items() if m.get("license", "LGPL-3") == "LGPL-3"}
    changed = True
    while changed:  # drop addons whose dependencies are gone, until stable
        missing = {n for n in keep if any(d not in keep for d in manifests[n].get("depends", []))}
        keep -= missing
        changed = bool(missing)
    removed = sorted(set(manifests) - keep)
    for name in removed:
        if not dry_run:
            shutil.rmtree(addons_dir / name)
    print(f"kept {len(keep)} addons, removed {len(removed)}")
    return removed


if __name__ == "__main__":
    prune(sys.argv[1], dry_run="--dry-run" in sys.argv)
