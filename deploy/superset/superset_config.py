# Superset configuration for clickflow's docker-compose deployment, copied into the image as
# /app/pythonpath/superset_config.py (the image puts /app/pythonpath on PYTHONPATH). Thin on
# purpose: the local stack's superset/superset_config.py reads a JSON settings file rendered by
# `clickflow stack up`; here the same values come from the environment docker-compose.yml sets.
# Everything below the metadata section is the local config's, verbatim
# (tests/compose/check_compose.sh checks that they stay equal).
import os
import secrets
from urllib.parse import quote

_HOME = os.environ.get("SUPERSET_HOME", "/app/superset_home")


def _secret_key():
    """SUPERSET_SECRET_KEY from the environment (.env), else one generated on the first start and
    kept in the superset-home volume: sessions and the ClickHouse password Superset stores
    encrypted must survive restarts, and Superset's built-in default must never be used."""
    key = os.environ.get("SUPERSET_SECRET_KEY", "").strip()
    if key:
        return key
    path = os.path.join(_HOME, "secret_key")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_hex(32) + "\n")
    with open(path, encoding="utf-8") as f:
        key = f.read().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: remove it (a new key is generated) or set SUPERSET_SECRET_KEY")
    return key


SECRET_KEY = _secret_key()
# Metadata in the compose PostgreSQL (database `superset`); user and password URL-encoded.
SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://{}:{}@{}:{}/{}".format(
    quote(os.environ.get("POSTGRES_USER", "clickflow"), safe=""),
    quote(os.environ.get("POSTGRES_PASSWORD", "clickflow"), safe=""),
    os.environ.get("POSTGRES_HOST", "postgres"),
    os.environ.get("POSTGRES_PORT", "5432"),
    os.environ.get("SUPERSET_DATABASE", "superset"),
)
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
DATA_DIR = os.path.join(_HOME, "data")

# ---- from superset/superset_config.py (keep equal) ----

# Native filters, cross-filters and the Jinja used by our virtual datasets.
FEATURE_FLAGS = {
    "DASHBOARD_NATIVE_FILTERS": True,
    "DASHBOARD_CROSS_FILTERS": True,
    "ENABLE_TEMPLATE_PROCESSING": True,
}

# Results are small and the warehouse is fast: no cache server, one web process.
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
# Flask-Limiter's in-memory store is right for one gunicorn worker; say so to silence its warning.
RATELIMIT_STORAGE_URI = "memory://"

SQLLAB_TIMEOUT = 60
SUPERSET_WEBSERVER_TIMEOUT = 120

# Superset reformats every statement with sqlglot, which rewrites ClickHouse's toStartOfHour(),
# toMonday(), ... into dateTrunc(). Current ClickHouse has dateTrunc, but the charts and virtual
# datasets are written to run on 18.16 and current releases alike, so both deployments use the
# same grain expressions.
TIME_GRAIN_ADDON_EXPRESSIONS = {
    "clickhouse": {
        "PT1M": "toDateTime(intDiv(toUInt32(toDateTime({col})), 60) * 60)",
        "PT5M": "toDateTime(intDiv(toUInt32(toDateTime({col})), 300) * 300)",
        "PT10M": "toDateTime(intDiv(toUInt32(toDateTime({col})), 600) * 600)",
        "PT15M": "toDateTime(intDiv(toUInt32(toDateTime({col})), 900) * 900)",
        "PT30M": "toDateTime(intDiv(toUInt32(toDateTime({col})), 1800) * 1800)",
        "PT1H": "toDateTime(intDiv(toUInt32(toDateTime({col})), 3600) * 3600)",
        "P1D": "toDate(toDateTime({col}))",
        "P1W": "toDate(toDateTime({col})) - (toDayOfWeek(toDateTime({col})) - 1)",
        "P1M": "toDate(toDateTime({col})) - (toDayOfMonth(toDateTime({col})) - 1)",
        "P3M": "addMonths(toDate(toDateTime({col})) - (toDayOfMonth(toDateTime({col})) - 1), "
        "-((toMonth(toDateTime({col})) - 1) % 3))",
        "P1Y": "toDate(toDateTime({col})) - (toDayOfYear(toDateTime({col})) - 1)",
    }
}
