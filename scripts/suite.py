"""Facts about the suite's addons, for the shell scripts.

``python scripts/suite.py addons``  the suite's addons (folders with a manifest)
``python scripts/suite.py deps``    what they depend on outside the suite
"""

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def manifests():
    for path in sorted(ROOT.glob("*/__manifest__.py")):
        yield path.parent.name, ast.literal_eval(path.read_text(encoding="utf-8"))


def main(what):
    suite = dict(manifests())
    if what == "addons":
        names = [n for n, m in suite.items() if m.get("installable", True)]
    elif what == "deps":
        names = sorted({d for m in suite.values() for d in m.get("depends", [])} - set(suite))
    else:
        raise SystemExit(__doc__)
    print(",".join(names))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
