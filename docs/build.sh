#!/usr/bin/env bash
# Builds the documentation site into docs/_site: the pages of docs/ and the API reference from the packages' XML docs.
# Every warning fails the build, so a link to a page, a heading or an API member that does not exist stops it.
# Usage: docs/build.sh [--serve]   (--serve then serves the site on http://localhost:8080)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

dotnet tool restore >/dev/null
rm -rf docs/_site docs/api/*.yml docs/api/.manifest

# docfx reads the projects with MSBuild; the API reference is generated from the same sources the packages are built from.
dotnet docfx metadata docs/docfx.json --warningsAsErrors
dotnet docfx build docs/docfx.json --warningsAsErrors
echo "docs/build.sh: the site is in docs/_site"

if [[ "${1:-}" == "--serve" ]]; then
    exec dotnet docfx serve docs/_site --port 8080
fi
