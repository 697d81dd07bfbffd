# Superset for clickflow's docker-compose deployment: the upstream image plus the ClickHouse
# dialect and the pins the local stack found necessary (superset/requirements.in), and a thin
# compose-specific superset_config.py. Build context: the repository root.
ARG SUPERSET_IMAGE=apache/superset:6.1.0
FROM ${SUPERSET_IMAGE}

USER root
# Since 5.0 the image's Python environment is the virtualenv /app/.venv (first on PATH), built
# with uv; the "lean" image carries no database driver, not even PostgreSQL's for the metadata.
#   clickhouse-sqlalchemy 0.2.9: clickhouse+native:// on SQLAlchemy 1.4 (0.3.x needs 2.x)
#   flask-caching 2.3.1:         2.4+ breaks Superset 6.1.0's SupersetMetastoreCache.factory
#   psycopg2-binary 2.9.9:       the metadata database driver, as in apache-superset[postgres]
# The last command fails the build unless the venv's python imports them at those versions.
RUN set -eu; \
    pkgs="clickhouse-sqlalchemy==0.2.9 flask-caching==2.3.1 psycopg2-binary==2.9.9"; \
    if command -v uv >/dev/null 2>&1; then \
        uv pip install --no-cache --python /app/.venv/bin/python $pkgs; \
    else \
        /app/.venv/bin/python -m ensurepip --upgrade >/dev/null; \
        /app/.venv/bin/python -m pip install --no-cache-dir $pkgs; \
    fi; \
    /app/.venv/bin/python -c "import clickhouse_sqlalchemy, psycopg2, flask_caching; \
from importlib.metadata import version as v; \
got = {p: v(p) for p in ('clickhouse-sqlalchemy', 'flask-caching', 'psycopg2-binary')}; \
assert got == {'clickhouse-sqlalchemy': '0.2.9', 'flask-caching': '2.3.1', 'psycopg2-binary': '2.9.9'}, got; \
print('superset image: ok', got)"

COPY deploy/superset/superset_config.py /app/pythonpath/superset_config.py
COPY deploy/superset/start.sh /app/clickflow/start.sh

USER superset
EXPOSE 8088
CMD ["/bin/bash", "/app/clickflow/start.sh"]
