-- docker-compose: run once by the postgres image on an empty data volume
-- (/docker-entrypoint-initdb.d), as the superuser POSTGRES_USER (clickflow), who owns both.
-- The local stack creates the same two databases (src/stack/postgres_server.cc).
CREATE DATABASE airflow;
CREATE DATABASE superset;
