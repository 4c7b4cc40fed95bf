#!/bin/sh
# Runs every libFuzzer target built by build.sh for FUZZ_SECONDS (60) each,
# seeded with the committed corpus (tests/fuzz/corpus/TARGET/) and the
# target's other seeds; new inputs go to a scratch directory, so the tree
# is not touched.  Exits 1 when any target finds a crash, a hang (one input
# over 10 s), a leak, a sanitizer report or more than 2 GiB of memory; the
# input that did it is kept in build/fuzz/artifacts/ and printed in base64.
#   sh tests/fuzz/run.sh                 every target
#   sh tests/fuzz/run.sh fuzz_proto      one
#   FUZZ_SECONDS=600 sh tests/fuzz/run.sh
set -eu
cd "$(dirname "$0")/../.."
OUT=build/fuzz
SECONDS_EACH=${FUZZ_SECONDS:-60}
ART=$OUT/artifacts
mkdir -p "$ART"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

# args TARGET: the target's own options and seed directories.
args() {
	case $1 in
	fuzz_endpoints)
		echo "-max_len=65536 -dict=tests/fuzz/endpoints.dict tests/data tests/data/bad" ;;
	fuzz_proto)
		echo "-dict=tests/fuzz/proto.dict tests/fuzz/seeds/proto" ;;
	fuzz_config)
		echo "configs" ;;
	*)
		echo "" ;;
	esac
}

targets=${*:-$(ls tests/fuzz/fuzz_*.c | sed 's#.*/##; s#\.c$##')}
failed=0
for t in $targets; do
	[ -x "$OUT/$t" ] || { echo "fuzz: $OUT/$t is missing: run tests/fuzz/build.sh" >&2; exit 1; }
	mkdir -p "$work/$t" "tests/fuzz/corpus/$t"
	# shellcheck disable=SC2046
	if "$OUT/$t" -max_total_time="$SECONDS_EACH" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$ART/$t-" \
	    "$work/$t" "tests/fuzz/corpus/$t" $(args "$t") >"$work/$t.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
		cov=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -1)
		echo "ok $t: ${SECONDS_EACH} s, ${runs:-?} runs, ${cov:-cov: ?} edges, no report"
	else
		failed=1
		echo "FAILED $t:"
		grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$work/$t.log" | head -20
		tail -40 "$work/$t.log"
		for a in "$ART/$t-"*; do
			[ -f "$a" ] || continue
			echo "input $a (base64):"
			base64 "$a" | head -100
		done
	fi
done
exit "$failed"
