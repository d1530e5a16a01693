# syntax=docker/dockerfile:1
# driftwatch serve in a container, with its engines inside (Pulumi, OpenTofu, providers, kustomize), built from
# this repository the way a user installs it: the packed npm package, its engines provisioned by `driftwatch provision`.
#
#   docker build -t driftwatch .
#   docker run -d -p 8080:8080 -v driftwatch-data:/var/lib/driftwatch \
#     -v "$PWD/driftwatch.yaml:/etc/driftwatch/driftwatch.yaml:ro" driftwatch
#
# The configuration's dataDir should be /var/lib/driftwatch (the volume); tokens come in as environment variables.

FROM golang:1.26-bookworm AS go

FROM node:24-bookworm AS build
COPY --from=go /usr/local/go /usr/local/go
ENV PATH=/usr/local/go/bin:$PATH \
    DRIFTWATCH_TOOLS_DIR=/opt/driftwatch/tools
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
 && npm pack --pack-destination /tmp \
 && npm install -g --no-audit --no-fund /tmp/driftwatch-*.tgz
# Every engine, provisioned by the installed command (into DRIFTWATCH_TOOLS_DIR); the Go caches go.
RUN driftwatch provision \
 && rm -rf /root/go /root/.cache/go-build

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates openssh-client gnupg \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/driftwatch --shell /usr/sbin/nologin driftwatch \
 && install -d -o driftwatch -g driftwatch -m 0700 /var/lib/driftwatch \
 && install -d -m 0755 /etc/driftwatch
COPY --from=build /usr/local/lib/node_modules/driftwatch /usr/local/lib/node_modules/driftwatch
COPY --from=build /opt/driftwatch/tools /opt/driftwatch/tools
RUN ln -s /usr/local/lib/node_modules/driftwatch/dist/cli/bin.js /usr/local/bin/driftwatch
# The toolchain is read, never provisioned again, at run time (it is root's and read-only to the service).
# serve listens where DRIFTWATCH_HTTP_HOST/DRIFTWATCH_HTTP_PORT say, else where the configuration's service.http
# does; the health check asks the same address (driftwatch health). Nothing outside the volume and /tmp is
# written: the image runs with a read-only root (docker run --read-only --tmpfs /tmp).
ENV DRIFTWATCH_TOOLS_DIR=/opt/driftwatch/tools \
    DRIFTWATCH_TOOLCHAIN=/opt/driftwatch/tools/toolchain.json \
    DRIFTWATCH_HTTP_HOST=0.0.0.0
USER driftwatch
WORKDIR /var/lib/driftwatch
VOLUME ["/var/lib/driftwatch"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["driftwatch", "--config", "/etc/driftwatch/driftwatch.yaml", "health"]
ENTRYPOINT ["driftwatch"]
CMD ["--config", "/etc/driftwatch/driftwatch.yaml", "serve"]
