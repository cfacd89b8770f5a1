#!/usr/bin/env bash
# Builds the edgesim container image, edgesim:local, with nothing pulled
# from any registry (the Dockerfile is FROM scratch):
#
#   1. cargo build --release -p edgesim  (in $CARGO_TARGET_DIR, default
#      target/ of the repository)
#   2. rustc docker/edgesim-wait.rs      (the readiness gate, std only)
#   3. stage the build context in target/docker-context/rootfs/: the two
#      programs (debug info stripped), exactly the shared libraries `ldd`
#      lists for them at the same paths, /etc/nsswitch.conf and /tmp
#   4. docker build -f docker/Dockerfile -t edgesim:local target/docker-context
#
# docker-compose.yml builds from the same staged context, so after this
# script `docker compose up --build` works too.
#
# Usage: docker/build-image.sh [--no-image]
#   --no-image   stop after staging the context (no Docker engine needed)
# Environment: CARGO_TARGET_DIR (cargo's), EDGESIM_IMAGE (default
# edgesim:local).
set -euo pipefail
cd "$(dirname "$0")/.."

image="${EDGESIM_IMAGE:-edgesim:local}"
build_image=1
for arg in "$@"; do
    case "$arg" in
        --no-image) build_image=0 ;;
        -h | --help)
            sed -n '2,20p' "$0"
            exit 0
            ;;
        *)
            echo "build-image.sh: unknown argument $arg" >&2
            exit 2
            ;;
    esac
done

target_dir="${CARGO_TARGET_DIR:-target}"
# The context stays at a fixed place in the repository, whatever the
# cargo target dir, because docker-compose.yml names it.
context="target/docker-context"
rootfs="$context/rootfs"

echo "build-image: cargo build --release -p edgesim (target dir $target_dir)"
cargo build --release -p edgesim
bin="$target_dir/release/edgesim"
[ -x "$bin" ] || {
    echo "build-image: $bin was not built" >&2
    exit 1
}

rm -rf "$context"
mkdir -p "$rootfs/etc" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"

echo "build-image: rustc docker/edgesim-wait.rs"
rustc --edition 2021 -C opt-level=2 -C strip=symbols \
    -o "$rootfs/edgesim-wait" docker/edgesim-wait.rs

# Debug info (line tables) is for the developers' backtraces, not for the
# image: strip it from the copy only, never from the cargo output.
if command -v objcopy > /dev/null; then
    objcopy --strip-debug "$bin" "$rootfs/edgesim"
else
    cp "$bin" "$rootfs/edgesim"
fi
chmod 755 "$rootfs/edgesim" "$rootfs/edgesim-wait"

# Shared libraries: every absolute path in `ldd` output (the
# "name => /path (addr)" lines and the dynamic loader's own line), copied
# with symlinks followed to the same path in the image. linux-vdso has no
# path and is provided by the kernel.
libs=$(
    for prog in "$rootfs/edgesim" "$rootfs/edgesim-wait"; do
        out=$(ldd "$prog") || {
            echo "build-image: ldd $prog failed (static binary?)" >&2
            exit 1
        }
        if grep -q "not found" <<< "$out"; then
            echo "build-image: $prog needs libraries that are missing:" >&2
            echo "$out" >&2
            exit 1
        fi
        awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' <<< "$out"
    done | sort -u
)
[ -n "$libs" ] || {
    echo "build-image: ldd listed no libraries" >&2
    exit 1
}
for lib in $libs; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
    echo "build-image:   + $lib"
done

# glibc reads nsswitch.conf to pick name services; both back ends named
# here are built into libc (glibc >= 2.34), so no libnss_*.so is needed.
# Docker bind-mounts /etc/hosts and /etc/resolv.conf (its embedded DNS
# server on user-defined networks) into the container at run time.
printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"

# Smoke-check the staged programs against the staged libraries only.
loader=$(grep -m1 '/ld-linux' <<< "$libs" || true)
if [ -n "$loader" ]; then
    libpath=$(for lib in $libs; do dirname "$rootfs$lib"; done | sort -u | paste -sd:)
    "$rootfs$loader" --inhibit-cache --library-path "$libpath" "$rootfs/edgesim" --version > /dev/null
fi
echo "build-image: staged $(du -sh "$context" | cut -f1) in $context"

if [ "$build_image" = 0 ]; then
    exit 0
fi
echo "build-image: docker build -t $image ($("$rootfs/edgesim" --version))"
# No --label or --build-arg here: `docker compose build` passes none, and
# the same inputs let it reuse this build's cached layers.
docker build --quiet -f docker/Dockerfile -t "$image" "$context"
echo "build-image: built $image"
