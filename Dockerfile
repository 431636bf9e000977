# syntax=docker/dockerfile:1
# rebootd container image: a Debian 12 builder stage compiles rebootd and rebootd-cloudsim with
# CMake/Ninja; the runtime stage holds only the shared libraries they link and the two binaries,
# and runs as the non-root uid 65532 with `rebootd` as the entrypoint.
#
#   scripts/build-image.sh                 docker when an engine runs, else buildah (see there)
#   docker build -t rebootd:0.1.0 .        the same with a plain Docker engine
#
# BASE_IMAGE is any Debian 12 (bookworm) image; scripts/build-image.sh passes a debootstrapped
# one when no image registry can be reached.
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS builder
# The -dev packages of scripts/setup.sh that the build needs (the test-only ones, GoogleTest and
# the Node/Prometheus tooling, are left out: the image build does not build tests).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
      libcpprest-dev libboost-dev libyaml-cpp-dev libssl-dev prometheus-cpp-dev \
      libspdlog-dev libfmt-dev libexpected-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmd ./cmd
COPY pkg ./pkg
ARG BUILD_JOBS=2
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DREBOOTD_BUILD_TESTS=OFF -DREBOOTD_WERROR=ON \
 && cmake --build /build -j "${BUILD_JOBS}" --target rebootd rebootd-cloudsim \
 && strip --strip-debug /build/cmd/rebootd/rebootd /build/cmd/rebootd-cloudsim/rebootd-cloudsim

FROM ${BASE_IMAGE}
# Runtime libraries only (Debian 12 names); libcivetweb1 comes in with libprometheus-cpp-pull1.0.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcpprest2.10 libyaml-cpp0.7 libssl3 libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 libspdlog1.10 libfmt9 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && groupadd --gid 65532 rebootd \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin rebootd \
 && install -d -o 65532 -g 65532 -m 0750 /var/lib/rebootd
COPY --from=builder /build/cmd/rebootd/rebootd /build/cmd/rebootd-cloudsim/rebootd-cloudsim \
     /usr/local/bin/
# The example RebootRequests, so `rebootd run --simulate --manifests /usr/share/rebootd/examples
# --until-done` works in the image with no cluster and no cloud account.
COPY examples /usr/share/rebootd/examples
LABEL org.opencontainers.image.title="rebootd" \
      org.opencontainers.image.description="Reboots Alibaba Cloud ECS and Tencent Cloud ECM instances safely at fleet scale" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 65532:65532
WORKDIR /var/lib/rebootd
# 8080 /metrics, 8081 /healthz and /readyz (with --*-bind-address :8080 / :8081).
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/rebootd"]
CMD ["--help"]
