# Sluice's container image: built in a Rust image, run from a distroless one as a
# non-root user, with a health check that needs no shell.
#
#   docker build -t sluice .
#   docker run -p 4000:4000 sluice                       # demo mode (built-in mock)
#   docker run -p 4000:4000 -v $PWD/sluice.toml:/etc/sluice/sluice.toml:ro \
#       sluice serve --config /etc/sluice/sluice.toml
#
# docker-compose.yml runs it with PostgreSQL (keys, journal) and Redis (shared limits).

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The shipped profile: fat LTO, one codegen unit, symbols stripped (Cargo.toml), guided
# by a profile of the benchmark's workloads (bench/pgo.sh: the gateway's own time per
# request on cold caches a fifth to a third shorter, BENCHMARKS.md). It needs the
# llvm-profdata of rustc's LLVM version; `--build-arg PGO=0` builds without it.
ARG PGO=1
RUN if [ "$PGO" = 1 ]; then \
        llvm=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p') \
        && apt-get update \
        && apt-get install -y --no-install-recommends "llvm-$llvm" \
        && bench/pgo.sh \
        && install -m 0755 "target/pgo/$(rustc -vV | sed -n 's/^host: //p')/dist/sluice" /sluice; \
    else \
        cargo build --profile dist --locked -p sluice \
        && install -m 0755 target/dist/sluice /sluice; \
    fi

# glibc and libgcc, nothing else: no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /sluice /usr/local/bin/sluice
# The non-root user's home is writable: demo mode journals to ./sluice.db there.
WORKDIR /home/nonroot
USER nonroot
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/sluice", "healthcheck", "--url", "http://127.0.0.1:4000/healthz"]
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["serve", "--listen", "0.0.0.0:4000"]
