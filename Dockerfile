# Vestibule container image: multi-stage, the binary and CA certificates only, non-root.
#   docker build -t vestibule .
#   docker run -p 8080:8080 -v $PWD/config/production.toml:/etc/vestibule/vestibule.toml:ro \
#     -e VESTIBULE_OIDC__CLIENT_SECRET=... vestibule
#
# Build: the Rust toolchain image. Run: distroless "cc" (glibc, libgcc, CA certificates, no shell,
# no package manager), as its built-in non-root user (uid 65532).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin vestibule && strip target/release/vestibule

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/vestibule /usr/local/bin/vestibule
USER 65532:65532
ENV VESTIBULE_CONFIG=/etc/vestibule/vestibule.toml
EXPOSE 8080 9090
# No curl in the image: the binary asks its own /healthz (on admin_listen when configured).
HEALTHCHECK --interval=10s --timeout=4s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/vestibule", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/vestibule"]
CMD ["run"]
