#!/usr/bin/env bash
# Builds the rebootd container image from the Dockerfile (multi-stage: full C++ build inside, so
# expect minutes, not seconds; it is not part of scripts/test.sh).
#   scripts/build-image.sh                 build ${IMAGE:-localhost/rebootd:<version>}
#   scripts/build-image.sh --base-only     only prepare the Debian 12 base image (see below)
#   scripts/test-image.sh                  then check the built image (tests/image)
# Engine: docker when `docker info` answers; otherwise buildah (`buildah bud --isolation chroot`,
# installed with apt-get when missing, needs root). Base image: docker.io/library/debian:
# bookworm-slim when a registry answers, otherwise a Debian 12 (bookworm) root filesystem made
# with debootstrap from the Debian mirror apt already uses, committed once as
# localhost/rebootd-debian-base:bookworm and reused.
# Environment: IMAGE, BASE_IMAGE (skip the detection), NICE (default 10), BUILD_JOBS (default
# nproc), DEBIAN_MIRROR, STORAGE_DRIVER (buildah storage, e.g. vfs where overlay is unavailable).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=$(sed -n 's/^project(rebootd VERSION \([0-9.]*\).*/\1/p' "$here/CMakeLists.txt")
image=${IMAGE:-localhost/rebootd:${version:-dev}}
nice_level=${NICE:-10}
jobs=${BUILD_JOBS:-$(nproc)}
registry_base=docker.io/library/debian:bookworm-slim
local_base=localhost/rebootd-debian-base:bookworm
base_only=0
[ "${1:-}" = --base-only ] && base_only=1

log() { echo "build-image: $*" >&2; }

if [ "$base_only" = 0 ] && command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; then
  log "docker engine found; building $image"
  start=$(date +%s)
  nice -n "$nice_level" docker build --build-arg BUILD_JOBS="$jobs" \
    ${BASE_IMAGE:+--build-arg BASE_IMAGE="$BASE_IMAGE"} -t "$image" "$here"
  log "built $image in $(( $(date +%s) - start ))s"
  docker image ls "$image"
  exit 0
fi

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
need=()
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The first URI of the host's apt sources, so the base matches what apt here already uses.
apt_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" && $2 !~ /^\[/ {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

make_debootstrap_base() {
  local mirror=${DEBIAN_MIRROR:-$(apt_mirror)}
  local root
  root=$(mktemp -d /var/tmp/rebootd-rootfs.XXXXXX)
  log "debootstrap bookworm from $mirror (minbase) into $root"
  "${as_root[@]}" debootstrap --variant=minbase bookworm "$root" "$mirror" >&2
  # Same suites as the official image: the release, its updates, and the security archive.
  local security=${mirror%/debian}/debian-security
  [ "$security" != "$mirror/debian-security" ] || security=http://deb.debian.org/debian-security
  "${as_root[@]}" tee "$root/etc/apt/sources.list" >/dev/null <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SRC
  "${as_root[@]}" rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/*.log
  "${as_root[@]}" tar -C "$root" --numeric-owner -cf "$root.tar" .
  local ctr
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$root.tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd /bin/bash --label org.opencontainers.image.description="Debian 12 (debootstrap minbase)" "$ctr"
  buildah commit --quiet --rm "$ctr" "$local_base" >/dev/null
  "${as_root[@]}" rm -rf "$root" "$root.tar"
  log "base image $local_base committed"
}

if [ -z "${BASE_IMAGE:-}" ]; then
  if buildah inspect --type image "$local_base" >/dev/null 2>&1; then
    BASE_IMAGE=$local_base
  elif timeout 60 buildah pull --quiet "$registry_base" >/dev/null 2>&1; then
    BASE_IMAGE=$registry_base
  else
    log "no image registry reachable; making the base image with debootstrap"
    make_debootstrap_base
    BASE_IMAGE=$local_base
  fi
fi
log "base image: $BASE_IMAGE"
[ "$base_only" = 1 ] && exit 0

log "buildah bud --isolation chroot -> $image (nice $nice_level, $jobs build jobs)"
start=$(date +%s)
nice -n "$nice_level" buildah bud --isolation chroot --layers \
  --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg BUILD_JOBS="$jobs" \
  -f "$here/Dockerfile" -t "$image" "$here"
log "built $image in $(( $(date +%s) - start ))s"
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' "$image"
