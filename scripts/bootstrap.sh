#!/usr/bin/env bash
# scripts/bootstrap.sh - from a fresh Debian 12 machine (or any later state) to a built tree.
#
#   scripts/bootstrap.sh            install missing packages, configure build/, compile
#
# Idempotent: it installs only the Debian packages that are missing (running `apt-get update`
# once, and only then), configures the build directory only when it is not configured yet
# (reconfiguring it when it is broken), and lets ninja decide what to recompile. Each step says
# what it does on a `==>` line; any failure stops it with a message saying what failed.
#
# Environment: WEFT_BUILD_DIR (default: build) to use another build directory.
set -euo pipefail

# Debian packages the project needs. Add a package with the issue that needs it, in its group.
PACKAGES=(
    # build and test the runtime core
    build-essential
    meson
    ninja-build
    pkg-config
    libcmocka-dev
    # instrumentation: the LTTng-UST sink and its round-trip test; the recorder's database
    liblttng-ust-dev
    lttng-tools
    babeltrace2
    libsqlite3-dev
    sqlite3
    # the console (ncursesw) and its tests, which drive it inside tmux
    libncurses-dev
    tmux
    # the book, rendered to HTML
    pandoc
    # weft import: LTTng traces read with libbabeltrace2
    libbabeltrace2-dev
    # the fuzz targets of the 'slow' suite (tests/fuzz/): clang and its libFuzzer runtime
    clang
    libclang-rt-14-dev
)

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'bootstrap: error: %s\n' "$*" >&2
    exit 1
}

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${WEFT_BUILD_DIR:-build}

# ---------------------------------------------------------------- packages
install_packages() {
    local missing=() pkg status
    for pkg in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [ "$status" = "install ok installed" ] || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "all ${#PACKAGES[@]} required packages are installed"
        return
    fi

    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null ||
            die "missing packages (${missing[*]}) and not root, and sudo is not installed; run as root: apt-get install ${missing[*]}"
        sudo=(sudo)
    fi
    say "installing missing packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
        die "apt-get update failed (is the network or the package mirror reachable?)"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install ${missing[*]} failed"
}

if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
    install_packages
else
    say "not a Debian-like system: skipping package installation; make sure these (or their equivalents) are installed: ${PACKAGES[*]}"
fi

for tool in meson ninja cc pkg-config; do
    command -v "$tool" >/dev/null || die "'$tool' is not on PATH even after installing packages"
done

# ---------------------------------------------------------------- configure
# A configured build directory has meson's core data and a build.ninja, and meson can read
# the core data back (a meson upgrade or an interrupted setup breaks that; `meson configure`
# without options reads it, where `meson introspect` only reads cached JSON files).
configured() {
    [ -f "$build/meson-private/coredata.dat" ] && [ -f "$build/build.ninja" ] &&
        meson configure "$build" >/dev/null 2>&1
}

if configured; then
    say "$build/ is already configured"
elif [ -f "$build/meson-private/coredata.dat" ]; then
    say "$build/ is configured but broken: meson setup --reconfigure $build"
    if ! meson setup --reconfigure "$build"; then
        say "reconfiguring failed; starting $build/ afresh: meson setup --wipe $build"
        meson setup --wipe "$build" || die "meson setup --wipe $build failed (see above)"
    fi
elif [ -e "$build" ] && [ -n "$(ls -A "$build" 2>/dev/null)" ]; then
    die "$build/ exists but is not a meson build directory; move it away or remove it"
else
    say "configuring: meson setup $build"
    meson setup "$build" || die "meson setup $build failed (see above)"
fi

# ---------------------------------------------------------------- build
say "compiling: meson compile -C $build"
meson compile -C "$build" || die "the build failed (see the compiler errors above)"
say "built: $build/weft, libweft, and the tests (run them with: meson test -C $build)"
