"""Register the fuzzer's sender; print its client secret, then our sender id, on stdout.

Used by scripts/fuzz.sh only. The sender ``dci-fuzz`` has every scope, no rate
limit and signature policy "off", so generated bodies reach the envelope and
message checks instead of stopping at the signature (signatures present are
still verified). A new random secret every run, never written to disk.
"""

import argparse
import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(__file__))

from bench.seed import ensure_sender


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    secret = secrets.token_urlsafe(32)
    _key, our_id = ensure_sender(
        args.config,
        args.db,
        "127.0.0.1",
        client_id="dci-fuzz",
        secret=secret,
        scopes=None,  # every scope
        signature_policy="off",
    )
    print(secret)
    print(our_id)


if __name__ == "__main__":
    main()
