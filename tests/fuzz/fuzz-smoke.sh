#!/bin/sh
# purple-otr: every fuzz target for a few seconds (make check's share of
# fuzzing; `make fuzz` runs them for longer).
here=$(dirname "$0")
POTR_FUZZ_BUILDDIR=${POTR_FUZZ_BUILDDIR:-$POTR_BUILDDIR/tests/fuzz}
POTR_FUZZ_SRCDIR=${POTR_FUZZ_SRCDIR:-$POTR_SRCDIR/tests/fuzz}
export POTR_FUZZ_BUILDDIR POTR_FUZZ_SRCDIR
# a fixed seed: make check explores the same inputs on every run (a long
# campaign, `make fuzz`, explores new ones)
FUZZ_SEED=${FUZZ_SEED:-1} FUZZ_SECONDS=${FUZZ_SMOKE_SECONDS:-5} exec sh "$POTR_FUZZ_SRCDIR/run-fuzz.sh"
