# syntax=docker/dockerfile:1
# refvision: one image for every service (dispatcher, worker, notifier, replay, run); the task
# definitions pick the subcommand. Versions and checksums come from scripts/versions.env through
# scripts/bootstrap. Not built on the development machine (no Docker engine there): see docs/deploy.md.

ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- build: Swift release build plus the pinned OpenVINO libraries and BlazePose models -------------
FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
# bootstrap also pip-installs moto for the test suite; Debian's pip refuses system installs unless told.
ENV PIP_BREAK_SYSTEM_PACKAGES=1 DEBIAN_FRONTEND=noninteractive
COPY scripts/bootstrap scripts/versions.env scripts/
RUN scripts/bootstrap
COPY Package.swift ./
COPY Sources Sources
# Test folders only so the manifest's test targets resolve; nothing from them is built.
COPY Tests Tests
RUN swift build -c release --static-swift-stdlib --product refvision \
 && mkdir -p /out \
 && cp "$(swift build -c release --show-bin-path)/refvision" /out/refvision \
 && strip /out/refvision

# ---- runtime: slim Debian with FFmpeg's runtime libraries only ---------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libavformat59 libavcodec59 libswscale6 libavutil57 \
      libcurl4 libsqlite3-0 libstdc++6 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin refvision \
 && mkdir -p /tmp/refvision && chown 10001:10001 /tmp/refvision
COPY --from=build /src/.deps/openvino/lib /opt/refvision/lib
COPY --from=build /src/.deps/models /opt/refvision/models
COPY --from=build /out/refvision /usr/local/bin/refvision
ENV LD_LIBRARY_PATH=/opt/refvision/lib \
    REFVISION_MODELS_DIR=/opt/refvision/models \
    REFVISION_SCRATCH_DIR=/tmp/refvision/scratch \
    REFVISION_HEARTBEAT_FILE=/tmp/refvision/heartbeat
USER 10001:10001
WORKDIR /tmp/refvision
ENTRYPOINT ["refvision"]
CMD ["--help"]
