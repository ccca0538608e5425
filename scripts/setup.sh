#!/usr/bin/env bash
# Set up everything but the Odoo source: a virtualenv in .venv with Odoo 19
# (from ODOO_SRC) and requirements.txt installed. Re-running is cheap: it only
# reinstalls when requirements.txt, this script or ODOO_SRC changed.
source "$(dirname "$0")/lib.sh"

find_python() {
  local py
  for py in "${PYTHON:-}" python3.11 python3.12 python3.10 python3; do
    [[ -n "$py" ]] && command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))'; then
      echo "$py"; return
    fi
  done
  die "Odoo 19 needs Python 3.10-3.12 (3.11 recommended); set PYTHON"
}

fetch_odoo_src() {
  # Last resort: the official community nightly tarball of 19.0.
  local url=${ODOO_TARBALL_URL:-https://nightly.odoo.com/19.0/nightly/src/odoo_19.0.latest.tar.gz}
  say "Odoo source not found at $ODOO_SRC: downloading $url"
  local tmp; tmp=$(mktemp -d)
  curl -fsSL --retry 2 "$url" -o "$tmp/odoo.tar.gz" ||
    die "could not download the Odoo 19.0 source. Put it at $ODOO_SRC_DEFAULT or set ODOO_SRC (see README)"
  mkdir -p "$ODOO_SRC" && tar -xzf "$tmp/odoo.tar.gz" -C "$ODOO_SRC" --strip-components=1
  rm -rf "$tmp"
}

[[ -f "$ODOO_SRC/odoo/release.py" ]] || fetch_odoo_src
grep -q "version_info = (19, 0" "$ODOO_SRC/odoo/release.py" ||
  die "$ODOO_SRC is not an Odoo 19.0 source tree"
[[ -d "$ODOO_SRC/odoo/addons/base" ]] || die "$ODOO_SRC/odoo/addons/base is missing"

# The browser tour of make test (spp_dci_demo) and make screenshots drive headless Chromium;
# Odoo's test browser looks for google-chrome, chromium, chromium-browser in PATH.
find_browser() {
  local bin
  for bin in google-chrome chromium chromium-browser google-chrome-stable; do
    command -v "$bin" 2>/dev/null && return 0
  done
  return 1
}
if ! find_browser >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "Installing Chromium (headless browser of the tour and the screenshots) with apt-get"
    mkdir -p "$STATE"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
      >"$STATE/chromium-install.log" 2>&1 ||
      say "WARNING: could not install chromium (log: $STATE/chromium-install.log)"
    find_browser >/dev/null || say "WARNING: no Chromium in PATH: the browser tour of make test will fail."
  else
    say "WARNING: no Chromium/Chrome in PATH: the browser tour of make test will fail." \
      "Install it (Debian/Ubuntu: sudo apt-get install chromium) or run this set-up as root."
  fi
fi

stamp=$VENV/.spp_dci_setup
want=$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" "$ROOT/scripts/setup.sh" "$ROOT/scripts/odoo_requirements.py" \
  "$ODOO_SRC/requirements.txt" <(echo "$ODOO_SRC") | sha256sum | cut -c1-16)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  say "Python environment up to date ($VENV)"
  exit 0
fi

py=$(find_python)
say "Creating the virtualenv $VENV with $($py --version)"
[[ -x "$VENV/bin/python" ]] || "$py" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
mkdir -p "$STATE"
log=$STATE/setup.log; : >"$log"
quiet() { "$@" >>"$log" 2>&1 || { tail -30 "$log"; die "failed: $* (full log: $log)"; }; }
quiet "${pip[@]}" install -U pip setuptools wheel packaging
say "Installing Odoo 19 from $ODOO_SRC (editable)"
# compat mode: a plain path in a .pth, so odoo.addons stays a namespace package
quiet "${pip[@]}" install --no-deps -e "$ODOO_SRC" --config-settings editable_mode=compat
"$VENV/bin/python" "$ROOT/scripts/odoo_requirements.py" "$ODOO_SRC/requirements.txt" >"$VENV/odoo-requirements.txt"
say "Installing Odoo's and the suite's Python requirements"
quiet "${pip[@]}" install -r "$VENV/odoo-requirements.txt" -r "$ROOT/requirements.txt" \
  -r "$ROOT/requirements-dev.txt"
echo "$want" >"$stamp"
say "Set-up done"
