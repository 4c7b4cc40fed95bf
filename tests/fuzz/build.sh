#!/bin/sh
# Builds the libFuzzer targets into build/fuzz/ (from anywhere):
#   sh tests/fuzz/build.sh            clang, -fsanitize=fuzzer,address,undefined
#   CC=clang-16 sh tests/fuzz/build.sh
# See tests/fuzz/README.md.  make fuzz builds and runs them (run.sh).
set -eu
cd "$(dirname "$0")/../.."
CC=${CC:-clang}
OUT=build/fuzz
mkdir -p "$OUT"
PKG_CFLAGS=$(pkg-config --cflags libcjson)
PKG_LIBS=$(pkg-config --libs libcjson)
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DM365_VERSION=\"fuzz\"
    -Icommon -Imatcher -Ihelper -Ifeed -g -O1 -fno-omit-frame-pointer
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
    $PKG_CFLAGS"
LIB_SRC="$(ls common/*.c matcher/*.c) helper/proto.c helper/memo.c feed/state.c"
objs=""
for src in $LIB_SRC; do
	obj="$OUT/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
	# shellcheck disable=SC2086
	$CC $CFLAGS -c -o "$obj" "$src"
	objs="$objs $obj"
done
# the bundled snapshot (.incbin relative to the repo root)
$CC -c -o "$OUT/snapshot.o" matcher/snapshot.S
for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	# shellcheck disable=SC2086
	$CC $CFLAGS -fsanitize=fuzzer -o "$OUT/$t" "tests/fuzz/$t.c" $objs \
		"$OUT/snapshot.o" $PKG_LIBS
	echo "built $OUT/$t"
done
