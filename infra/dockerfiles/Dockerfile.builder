# Build the function inside Docker instead of on the host (as the seed project did).
# Not exercised by this project's CI: those machines cannot pull base images. The tested path is
# `infra/dockerfiles/Dockerfile` fed by infra.bootstrap's static build.
#
#   docker build -f infra/dockerfiles/Dockerfile.builder --build-arg FUNCTION=sync-forks -t sync-forks .
ARG RUST_IMAGE=rust:1.95-slim-bookworm

FROM ${RUST_IMAGE} AS builder
ARG FUNCTION
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY functions functions
# glibc's crt-static: one self-contained binary that runs FROM scratch.
RUN test -n "${FUNCTION}" || { echo "pass --build-arg FUNCTION=<crate>" >&2; exit 1; } \
 && RUSTFLAGS="-C target-feature=+crt-static --remap-path-prefix=/src=/build" \
    cargo build --release --locked -p "${FUNCTION}" --target x86_64-unknown-linux-gnu \
 && cp "target/x86_64-unknown-linux-gnu/release/${FUNCTION}" /bootstrap

FROM scratch
COPY --from=builder /bootstrap /bootstrap
ENV FC_CUSTOM_LISTEN_PORT=9000
EXPOSE 9000
USER 65534:65534
ENTRYPOINT ["/bootstrap"]
