#!/usr/bin/env bash
# docker-compose: the superset service's command (copied into the image as /app/clickflow/start.sh).
# Does what `clickflow stack up` does for its Superset (src/stack/superset_home.cc and
# superset_server.cc): migrate the metadata database, create roles and permissions, make sure the
# admin login exists with SUPERSET_ADMIN_PASSWORD, then serve with gunicorn on 8088. Every step is
# idempotent, so a restart repeats them (about half a minute) instead of keeping stamps.
set -euo pipefail

password="${SUPERSET_ADMIN_PASSWORD:?SUPERSET_ADMIN_PASSWORD is not set}"

echo "superset: db upgrade"
superset db upgrade
echo "superset: init (roles and permissions)"
superset init
echo "superset: admin login"
# create-admin leaves an existing user alone (and says so), so reset the password after it.
# The password goes through the environment (click reads FLASK_FAB_<COMMAND>_PASSWORD when
# --password is not given), never argv: a command line is readable by everyone in /proc.
FLASK_FAB_CREATE_ADMIN_PASSWORD="$password" superset fab create-admin --username admin \
    --firstname Superset --lastname Admin --email admin@localhost
FLASK_FAB_RESET_PASSWORD_PASSWORD="$password" superset fab reset-password --username admin

# One worker with threads, as in the local stack: dashboards fire their chart queries in
# parallel, and each worker costs ~300 MB. The timeout covers the slowest chart query.
echo "superset: serving on 0.0.0.0:8088"
exec gunicorn --bind 0.0.0.0:8088 --workers 1 --threads 8 --worker-class gthread \
    --timeout 120 --limit-request-line 0 --limit-request-field_size 0 \
    --access-logfile - --error-logfile - \
    "superset.app:create_app()"
