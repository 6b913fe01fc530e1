#!/usr/bin/env bash
# tests/install/test_install.sh - does an installed weft work for a program outside the tree?
#
#   test_install.sh MESON BUILD_ROOT SOURCE_ROOT VERSION SANITIZE
#   (environment: CC = the compiler command meson uses, PKG_CONFIG = pkg-config's path)
#
# Installs the build into a temporary DESTDIR with `meson install`, then, using only what was
# installed: checks the headers and the `weft` binary are there, compiles tests/install/hello.c
# with `$CC $(pkg-config --cflags --libs weft)` against the shared library and against the
# static one, and runs both. SANITIZE is meson's b_sanitize ("none" normally): a sanitized
# libweft needs the program built with the same -fsanitize flags. Speaks TAP.
set -uo pipefail

meson=${1:?}
build=${2:?}
src=${3:?}
version=${4:?}
sanitize=${5:-none}
cc=${CC:-cc}
pkgconfig=${PKG_CONFIG:-pkg-config}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
log=$tmp/log

n=0
failed=0
# step DESCRIPTION COMMAND...: one TAP line; the command's output is shown only on failure.
step() {
    local desc=$1
    shift
    n=$((n + 1))
    if "$@" >"$log" 2>&1; then
        echo "ok $n - $desc"
    else
        failed=$((failed + 1))
        echo "not ok $n - $desc"
        # meson shows a TAP test's stderr, not its stdout, with --print-errorlogs.
        { echo "not ok $n - $desc:"; sed 's/^/    /' "$log" | head -n 60; } >&2
    fi
}
bail() {
    echo "Bail out! $*"
    exit 1
}

san_flags=()
if [ "$sanitize" != none ]; then
    san_flags=("-fsanitize=$sanitize")
fi

# --no-rebuild: meson test has already built everything, and a ninja run from inside a test
# would race with the build directory's own.
step "meson install --destdir" "$meson" install -C "$build" --destdir "$dest" --no-rebuild
pc=$(find "$dest" -name weft.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || bail "no weft.pc was installed under $dest"

# Look only at the installed copy (PKG_CONFIG_LIBDIR replaces the system search path), and let
# pkg-config prefix its -I and -L paths with the DESTDIR.
export PKG_CONFIG_LIBDIR=${pc%/*}
export PKG_CONFIG_PATH=
export PKG_CONFIG_SYSROOT_DIR=$dest
cflags=$("$pkgconfig" --cflags weft) || bail "pkg-config --cflags weft failed"
libs=$("$pkgconfig" --libs weft) || bail "pkg-config --libs weft failed"
static_libs=$("$pkgconfig" --static --libs weft) || bail "pkg-config --static --libs failed"
# Variables as written in weft.pc (pkgconf would prefix them with the sysroot, pkg-config not).
var() { PKG_CONFIG_SYSROOT_DIR='' "$pkgconfig" --variable="$1" weft; }
prefix=$(var prefix)
libdir=$dest$(var libdir)
incdir=$dest$(var includedir)

step "pkg-config reports version $version" test "$("$pkgconfig" --modversion weft)" = "$version"
step "cflags point into the DESTDIR" grep -q -- "-I$dest" <<<"$cflags"

missing_headers() {
    local h rc=0
    for h in "$src"/include/weft/*.h; do
        if ! cmp -s "$h" "$incdir/weft/${h##*/}"; then
            echo "not installed (or different): weft/${h##*/}"
            rc=1
        fi
    done
    return $rc
}
step "every public header is installed" missing_headers

weft_bin=$dest$prefix/bin/weft
step "the weft binary is installed and runs" \
    bash -c '[ "$("$1" --version)" = "weft $2" ]' _ "$weft_bin" "$version"

# Word splitting of $cflags and $libs is intended: they are lists of flags.
# shellcheck disable=SC2086
step "hello.c compiles against the installed shared library" \
    $cc -std=c11 -Wall -Wextra -Werror "${san_flags[@]}" "$src/tests/install/hello.c" \
    -o "$tmp/hello" $cflags $libs
step "hello runs with the installed libweft.so" \
    bash -c 'out=$(LD_LIBRARY_PATH="$1" "$2") && echo "$out" && [ "$out" = "hello from weft $3: slept 1 ms" ] &&
             LD_LIBRARY_PATH="$1" ldd "$2" | grep -q "libweft.so.* => $1/"' \
    _ "$libdir" "$tmp/hello" "$version"

# The same program against libweft.a: proves Libs.private names what the archive needs.
static_libs=${static_libs//-lweft/$libdir/libweft.a}
# shellcheck disable=SC2086
step "hello.c links against the installed static library" \
    $cc -std=c11 "${san_flags[@]}" "$src/tests/install/hello.c" -o "$tmp/hello_static" \
    $cflags $static_libs
step "the statically linked hello runs" \
    bash -c '[ "$("$1")" = "hello from weft $2: slept 1 ms" ]' _ "$tmp/hello_static" "$version"

echo "1..$n"
exit $((failed > 0))
