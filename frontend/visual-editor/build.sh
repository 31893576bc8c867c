#!/bin/sh
# Build the editor page's visual mode into ONE minified file under static/vendor, named
# with the Tiptap version, and print its SHA-256 for static/vendor/README.md. The blog and
# its tests load the committed file: they never need node or npm. Versions are pinned by
# package-lock.json (`npm ci`); to update, change package.json, `npm install`, run this,
# update the README row and the <script> in templates/editor/edit.html, and remove the old file.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
version=$(node -p "require('./node_modules/@tiptap/core/package.json').version")
name="visual-editor-tiptap-$version.min.js"
./node_modules/.bin/esbuild src/visual-editor.js --bundle --minify --format=iife \
  --target=es2020 --legal-comments=none --charset=utf8 --outfile="../../static/vendor/$name"
cd ../../static/vendor
sha256sum "$name"
printf 'gzip: %s bytes\n' "$(gzip -9 -n -c "$name" | wc -c)"
