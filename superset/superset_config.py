# Superset configuration for clickflow. Thin on purpose: the values come from a JSON file the
# stack manager renders per data dir (src/stack/superset_home.cc), named by the environment
# variable CLICKFLOW_SUPERSET_SETTINGS; it holds the generated SECRET_KEY and the metadata
# database URL, so it is mode 0600 and never logged.
import json
import os

_settings_file = os.environ.get("CLICKFLOW_SUPERSET_SETTINGS")
if not _settings_file:
    raise RuntimeError(
        "CLICKFLOW_SUPERSET_SETTINGS is not set: start Superset through `clickflow stack up`, "
        "or `source <data_dir>/superset/env.sh` first"
    )
with open(_settings_file, encoding="utf-8") as _f:
    _settings = json.load(_f)

# Generated once per install (32 random bytes) and kept in the data dir: never the default.
SECRET_KEY = _settings["secret_key"]
# Metadata in the stack's PostgreSQL (database `superset`).
SQLALCHEMY_DATABASE_URI = _settings["metadata_uri"]
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
# Superset's own files (uploads, the examples cache) under the data dir, not $HOME.
DATA_DIR = _settings["data_dir"]

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
# toMonday(), ... into dateTrunc(), a function ClickHouse 18.16 lacks. These grain expressions
# survive the rewrite and run on 18.16 and on current releases alike.
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
