"""Print the Python requirements of an Odoo source tree, resolved for wheels.

Odoo's requirements.txt pins per distribution release through
``python_version`` markers. The pins for Python < 3.12 (Ubuntu Jammy) are
old enough that several no longer build from source with today's setuptools,
so we evaluate the markers as Ubuntu Noble (Python 3.12) would: the same
versions Odoo 19 is tested with, all shipped as wheels for 3.10-3.12.

We leave out what this project pins itself (cryptography and pyOpenSSL: the
signing libraries need a newer cryptography), python-ldap (needs system
headers, unused here) and psycopg2 (installed as psycopg2-binary).
"""

import sys

from packaging.markers import default_environment
from packaging.requirements import Requirement

SKIP = {"cryptography", "pyopenssl", "python-ldap", "psycopg2"}


def resolved_requirements(path):
    env = default_environment()
    env.update(python_version="3.12", python_full_version="3.12.3")
    for raw in open(path, encoding="utf-8"):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        if req.name.lower() in SKIP:
            continue
        if req.marker and not req.marker.evaluate(env):
            continue
        req.marker = None
        yield str(req)


if __name__ == "__main__":
    print("\n".join(resolved_requirements(sys.argv[1])))
