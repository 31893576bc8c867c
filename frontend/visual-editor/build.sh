#!/bin/sh
# Build the editor page's visual mode into ONE minified file under static/vendor, named
# with the Tiptap version, and record its SHA-256 in static/vendor/README.md. The blog and
# its tests load the committed file: they never need node or npm. Versions are pinned by
# package-lock.json (`npm ci`); to update, change package.json, `npm install`, run this,
# update the README row and the <script> in templates/editor/edit.html, and remove the old file.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
version=$(node -p "require('./node_modules/@tiptap/core/package.json').version")
name="visual-editor-tiptap-$version.min.js"
# The licence notices go in a file of their own (licences.mjs), linked from the bundle's
# last line, rather than comments inside it.
./node_modules/.bin/esbuild src/visual-editor.js --bundle --minify --format=iife \
  --target=es2020 --legal-comments=none --charset=utf8 --metafile=build-meta.json \
  --footer:js="/*! Licences: ${name%.min.js}.LICENSES.txt */" --outfile="../../static/vendor/$name"
node licences.mjs build-meta.json "../../static/vendor/${name%.min.js}.LICENSES.txt"
rm build-meta.json
cd ../../static/vendor
sum=$(sha256sum "$name" | cut -d' ' -f1)
echo "$sum  $name"
# The checksum column of the file's row in static/vendor/README.md (tests/test_static.py checks it).
sed -i "s/^\(| \`$name\` |.*| \`\)[0-9a-f]\{64\}\(\` |\)\$/\1$sum\2/" README.md
grep -q "$sum" README.md || { echo "static/vendor/README.md has no row for $name" >&2; exit 1; }
printf 'gzip: %s bytes\n' "$(gzip -9 -n -c "$name" | wc -c)"
