# syntax=docker/dockerfile:1
# driftwatch serve in a container, with its engines inside (Pulumi, OpenTofu, providers, kustomize), built from
# this repository the way a user installs it: the packed npm package, provisioned by its own first use.
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
# The engines, provisioned by the installed command's first use (into DRIFTWATCH_TOOLS_DIR); the Go caches go.
RUN printf 'stacks: []\n' > /tmp/none.yaml \
 && driftwatch --config /tmp/none.yaml check \
 && rm -rf /root/go /root/.cache/go-build /tmp/none.yaml

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/driftwatch --shell /usr/sbin/nologin driftwatch \
 && install -d -o driftwatch -g driftwatch -m 0700 /var/lib/driftwatch \
 && install -d -m 0755 /etc/driftwatch
COPY --from=build /usr/local/lib/node_modules/driftwatch /usr/local/lib/node_modules/driftwatch
COPY --from=build /opt/driftwatch/tools /opt/driftwatch/tools
RUN ln -s /usr/local/lib/node_modules/driftwatch/dist/cli/bin.js /usr/local/bin/driftwatch
# The toolchain is read, never provisioned again, at run time (it is root's and read-only to the service).
ENV DRIFTWATCH_TOOLS_DIR=/opt/driftwatch/tools \
    DRIFTWATCH_TOOLCHAIN=/opt/driftwatch/tools/toolchain.json
USER driftwatch
WORKDIR /var/lib/driftwatch
VOLUME ["/var/lib/driftwatch"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["driftwatch"]
CMD ["--config", "/etc/driftwatch/driftwatch.yaml", "serve", "--host", "0.0.0.0"]
