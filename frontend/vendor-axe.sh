#!/bin/sh
# Copy the pinned axe-core (package-lock.json) into tests/browser/vendor under a name that
# carries its version, and record its SHA-256 there. The tests load that file: they never
# need node or npm. To update: change the version in package.json, `npm install`, run this,
# and commit package*.json and tests/browser/vendor (remove the old file).
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
version=$(node -p "require('./node_modules/axe-core/package.json').version")
name="axe-core-$version.min.js"
cp node_modules/axe-core/axe.min.js "../tests/browser/vendor/$name"
cd ../tests/browser/vendor
sha256sum "$name" > SHA256SUMS
cat SHA256SUMS
