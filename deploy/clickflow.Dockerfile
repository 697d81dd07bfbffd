# The clickflow image of the docker-compose deployment (services clickflow-init and
# clickflow-loader). Build context: the repository root.
#
#   build:   Debian 12 with the -dev packages of scripts/install-deps.sh; Release, no tests
#   runtime: debian:12-slim with the matching runtime libraries, the binary, and the resources it
#            reads (migrations, Superset bundle, DAGs, samples) under /opt/clickflow
#
# deploy/airflow.Dockerfile repeats the build stage word for word, so the two images share its
# cached layers (tests/compose/check_compose.sh keeps them equal).

# ---- build stage (keep equal in deploy/airflow.Dockerfile) ----
FROM debian:12 AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake ninja-build pkg-config ca-certificates \
        librdkafka-dev libsimdjson-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev \
        libspdlog-dev libfmt-dev libcurl4-openssl-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
# Built where the resources live at run time: the compiled-in default resources_dir is the
# source dir (CLICKFLOW_RESOURCES_DIR is set as well).
WORKDIR /opt/clickflow
COPY CMakeLists.txt ./
COPY bench/CMakeLists.txt bench/
COPY src src
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    && cmake --build /build --target clickflow \
    && strip /build/clickflow
# ---- end of build stage ----

FROM debian:12-slim
# The shared libraries the binary links (ldd build/clickflow on Debian 12); curl for the
# healthchecks, python3 for zipping the Superset bundle (`clickflow superset import`).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        librdkafka1 libsimdjson14 libyaml-cpp0.7 libspdlog1.10 libfmt9 libcurl4 libssl3 \
        ca-certificates curl python3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/clickflow /usr/local/bin/clickflow
COPY clickhouse/migrations /opt/clickflow/clickhouse/migrations
COPY superset/assets /opt/clickflow/superset/assets
COPY airflow/dags /opt/clickflow/airflow/dags
COPY data/samples /opt/clickflow/data/samples
COPY deploy/clickflow/init.sh /opt/clickflow/deploy/init.sh
# Fails the build if a library is missing.
RUN clickflow --version \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/clickflow --create-home clickflow

ENV CLICKFLOW_RESOURCES_DIR=/opt/clickflow \
    CLICKFLOW_DATA_DIR=/var/lib/clickflow
USER clickflow
WORKDIR /var/lib/clickflow
ENTRYPOINT ["clickflow"]
CMD ["--help"]
