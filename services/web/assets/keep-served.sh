#!/bin/sh
# Keeps in a node_modules folder only what a page is served or the licences ask to ship with it:
# the minified scripts and the licence files. Package docs and manifests go (they name CDN
# addresses and test commands that fetch browsers; nothing here uses either). Used by
# deploy/local/browser.sh and the Dockerfile's assets stage.
#
#   keep-served.sh NODE_MODULES_FOLDER
set -eu
folder="$1"
find "$folder" -type f ! -name '*.min.js' ! -name 'LICENSE*' ! -name '.installed' -delete
find "$folder" -depth -type d -empty -delete
