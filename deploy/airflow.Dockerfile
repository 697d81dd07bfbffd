# Airflow for clickflow's docker-compose deployment: the upstream image at the version of
# airflow/requirements.lock, plus the clickflow binary (the DAG tasks run it), its runtime
# libraries, and the resources the tasks read (migrations, DAGs, samples) under /opt/clickflow,
# laid out as in the repository so airflow/dags/_clickflow.py finds data/samples. Build context:
# the repository root. The apache/airflow 3.x images are Debian 12 (bookworm) based, so Debian
# 12's runtime packages match the binary built below.
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2

# ---- build stage (keep equal in deploy/clickflow.Dockerfile) ----
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

FROM ${AIRFLOW_IMAGE}
USER root
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        librdkafka1 libsimdjson14 libyaml-cpp0.7 libspdlog1.10 libfmt9 libcurl4 libssl3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/clickflow /usr/local/bin/clickflow
COPY clickhouse/migrations /opt/clickflow/clickhouse/migrations
COPY airflow/dags /opt/clickflow/airflow/dags
COPY data/samples /opt/clickflow/data/samples
COPY deploy/airflow/entrypoint.sh /opt/clickflow/deploy/airflow-entrypoint.sh
# Fails the build if a library is missing. secrets/: the generated jwt_secret, secret_key and
# fernet_key (a volume shared by the Airflow services); clickflow/: the tasks' clickflow data_dir.
RUN clickflow --version \
    && mkdir -p /opt/airflow/secrets /opt/airflow/clickflow \
    && chown airflow:0 /opt/airflow/secrets /opt/airflow/clickflow \
    && chmod 0770 /opt/airflow/secrets

ENV CLICKFLOW_RESOURCES_DIR=/opt/clickflow \
    CLICKFLOW_DATA_DIR=/opt/airflow/clickflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/clickflow/airflow/dags
USER airflow
# Ours first (secrets, admin password), then the image's own entrypoint, which runs the command.
ENTRYPOINT ["/usr/bin/dumb-init", "--", "/bin/bash", "/opt/clickflow/deploy/airflow-entrypoint.sh"]
CMD []
