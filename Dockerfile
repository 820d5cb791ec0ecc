# syntax=docker/dockerfile:1
# Tickwire server image: one image for every role (api, game, all); the Kubernetes manifests in
# deploy/ pick the role with --role. Build from the repository root: docker build -t tickwire .

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# The whole workspace: cargo reads every member's manifest even to build one package.
COPY . .
# Cache mounts keep the registry and target/ between builds, so a source change recompiles only
# the workspace crates; the binary is copied out because a cache mount is not part of the layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p server \
    && cp target/release/server /tickwire-server

FROM debian:bookworm-slim
# ca-certificates is left unpinned on purpose: it is the trust store (for reaching PostgreSQL and
# other hosts over TLS) and must follow Debian's security updates, which a pin would hold back
# (and a pinned version is removed from the archive when superseded, breaking the build).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --no-create-home \
        --home-dir /var/lib/tickwire --shell /usr/sbin/nologin tickwire \
    && install -d -o tickwire -g tickwire -m 0750 /var/lib/tickwire
COPY --from=build /tickwire-server /usr/local/bin/tickwire-server
# The shipped games, and the web client as built and committed; not its sources or node_modules.
COPY assets/arena /opt/tickwire/assets/arena
COPY assets/cycles /opt/tickwire/assets/cycles
COPY assets/web/public /opt/tickwire/assets/web/public
ENV TICKWIRE_ASSETS=/opt/tickwire/assets \
    TICKWIRE_DATA_DIR=/var/lib/tickwire \
    TICKWIRE_LISTEN=0.0.0.0:8443
# Numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/tickwire-server"]
