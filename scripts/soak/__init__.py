"""The load and fault run of scripts/soak.sh (see scripts/soak.py)."""
