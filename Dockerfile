# Vestibule container image.
#   docker build -t vestibule .
#   docker run -p 8080:8080 -v $PWD/config/production.toml:/etc/vestibule/vestibule.toml:ro \
#     -e VESTIBULE_OIDC__CLIENT_SECRET=... vestibule
# Build stage: the Rust toolchain image; run stage: slim Debian with CA certificates only.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin vestibule

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin vestibule
COPY --from=build /src/target/release/vestibule /usr/local/bin/vestibule
USER 10001:10001
ENV VESTIBULE_CONFIG=/etc/vestibule/vestibule.toml
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/vestibule"]
CMD ["run"]
