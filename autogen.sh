#!/bin/sh
# purple-otr: regenerate the build system (configure, Makefile.in, po/ support)
set -e
cd "$(dirname "$0")"
autoreconf --force --install --verbose
