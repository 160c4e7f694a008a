#!/bin/sh
# purple-otr: run fuzz targets (libFuzzer) one after the other, each for
# $FUZZ_SECONDS, from their seeds and corpus; prints TAP, one line per
# target with its figures (runs, coverage, corpus). A crash, a leak, a
# sanitizer report or a failed oracle fails the target; its input is kept
# in tests/fuzz/crashes/ and the end of its log is printed.
#   FUZZ_SECONDS=5 run-fuzz.sh [TARGET...]
# Needs POTR_FUZZ_BUILDDIR and POTR_FUZZ_SRCDIR (make sets them).
set -u
: "${POTR_FUZZ_BUILDDIR:?}" "${POTR_FUZZ_SRCDIR:?}"
seconds=${FUZZ_SECONDS:-5}
build=$POTR_FUZZ_BUILDDIR
src=$POTR_FUZZ_SRCDIR
# the libraries' own leaks (and libgcrypt's secure memory) are not ours
LSAN_OPTIONS="suppressions=$src/lsan.supp:print_suppressions=0"
export LSAN_OPTIONS
[ $# -gt 0 ] || set -- fuzz-privkey fuzz-fingerprints fuzz-instags fuzz-html fuzz-xmpp \
  fuzz-commands fuzz-receive
echo "1..$#"
n=0
failed=0
for target in "$@"; do
  n=$((n + 1))
  case $target in
    fuzz-privkey) dict=sexp.dict ;;
    fuzz-xmpp) dict=xmpp.dict ;;
    fuzz-commands) dict=commands.dict ;;
    fuzz-receive|fuzz-html) dict=otr.dict ;;
    *) dict= ;;
  esac
  mkdir -p "$build/run/$target" "$build/crashes"
  set -- "$build/run/$target"
  for dir in "$build/seeds/$target" "$src/corpus/$target"; do
    [ -d "$dir" ] && set -- "$@" "$dir"
  done
  log=$build/run/$target.log
  start=$(date +%s)
  # 1. every input of the corpora once, with leaks checked after each
  #    (full stacks: the suppressions must see which library allocated)
  ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0} \
  timeout 600 "$build/$target" -runs=0 -timeout=20 -artifact_prefix="$build/crashes/$target-" \
    "$@" >"$log.replay" 2>&1
  status=$?
  # 2. fuzzing, leak checks off for speed (what it adds to the corpus is
  #    checked by the next replay); the wall-clock bound is libFuzzer's
  #    own plus room for one slow input. Memory grows by libotr's own
  #    leak (728 bytes per context it ever made: otrl_context_forget
  #    never frees context_priv), hence the generous limit
  if [ "$status" -eq 0 ]; then
    ASAN_OPTIONS=detect_leaks=0 \
    timeout $((seconds + 120)) "$build/$target" -max_total_time="$seconds" -timeout=20 \
      -detect_leaks=0 -rss_limit_mb=6144 -print_final_stats=1 \
      -artifact_prefix="$build/crashes/$target-" ${dict:+-dict="$src/$dict"} \
      ${FUZZ_SEED:+-seed="$FUZZ_SEED"} "$@" >"$log" 2>&1
    status=$?
  else
    cp "$log.replay" "$log"
  fi
  took=$(( $(date +%s) - start ))
  runs=$(LC_ALL=C sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -ao 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -ao 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  edges=$(LC_ALL=C sed -n 's/^INFO: Loaded 1 modules *(\([0-9]*\) inline.*/\1/p' "$log" | head -1)
  figures="${runs:-0} runs in ${took} s, coverage ${cov:-?} of ${edges:-?} edges, ${ft:-?} features, corpus ${corp:-?}"
  if [ "$status" -eq 0 ]; then
    echo "ok $n - $target: $figures, 0 crashes"
  else
    failed=$((failed + 1))
    echo "not ok $n - $target: exit status $status after $figures (log: $log)"
    tail -40 "$log" | sed 's/^/# /'
  fi
done
[ "$failed" -eq 0 ]
