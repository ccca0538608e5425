#!/usr/bin/env bash
# Download the official DCI 1.0.0 spec files (Apache-2.0) into DCI_SPEC_DIR
# (default ../shared/dci-spec), in the layout the tests expect:
#   openapi/                 OpenSPP/spdci-compliance spec/ (fixed bundles per registry)
#   spdci-standards/         spdci/standards (release bundles, src/, sample JSONs)
#   schemas/                 spdci/schemas (JSON-LD vocabulary)
# Pinned to the commits the suite is tested against. Needs access to github.com.
source "$(dirname "$0")/lib.sh"

declare -A SOURCES=(
  [openapi]="OpenSPP/spdci-compliance 80b7bc346613d20ba1cf39af33ed951dd1e997e8 spec"
  [spdci-standards]="spdci/standards b4816e1ecf415a5ac6635085fec0656160d285ea ."
  [schemas]="spdci/schemas 53b6dbc13c6a97299b6d155d7ff00d8e0549d3b6 ."
)
dest=$DCI_SPEC_DIR
if [[ -f "$dest/openapi/social_api_v1.0.0.yaml" ]]; then
  say "DCI spec already present in $dest"; exit 0
fi
mkdir -p "$dest"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for folder in "${!SOURCES[@]}"; do
  read -r repo commit sub <<<"${SOURCES[$folder]}"
  say "Fetching $repo@${commit:0:8} ($sub) -> $dest/$folder"
  curl -fsSL "https://codeload.github.com/$repo/tar.gz/$commit" -o "$tmp/$folder.tgz"
  mkdir -p "$tmp/$folder" "$dest/$folder"
  tar -xzf "$tmp/$folder.tgz" -C "$tmp/$folder" --strip-components=1
  cp -R "$tmp/$folder/$sub/." "$dest/$folder/"
done
say "DCI spec files are in $dest (set DCI_SPEC_DIR if you moved them)"
