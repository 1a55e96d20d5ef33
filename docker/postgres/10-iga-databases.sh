#!/bin/bash
# First start of the PostgreSQL container: one role and one database for the warehouse (and the
# warehouse's group roles), one for Airflow's metadata. Names and passwords come from .env (see .env.example); psql quotes them.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v iga_db="$IGA_DB_NAME" -v iga_user="$IGA_DB_USER" -v iga_password="$IGA_DB_PASSWORD" \
    -v airflow_db="$AIRFLOW_DB_NAME" -v airflow_user="$AIRFLOW_DB_USER" -v airflow_password="$AIRFLOW_DB_PASSWORD" <<'SQL'
CREATE ROLE :"iga_user" LOGIN PASSWORD :'iga_password';
CREATE DATABASE :"iga_db" OWNER :"iga_user";
-- The warehouse's group roles (sql/meta/roles.sql): made here by the superuser, because the
-- pipeline's own login has no CREATEROLE; it owns the warehouse through iga_pipeline.
CREATE ROLE iga_pipeline NOLOGIN;
CREATE ROLE iga_analyst NOLOGIN;
GRANT iga_pipeline TO :"iga_user";
CREATE ROLE :"airflow_user" LOGIN PASSWORD :'airflow_password';
CREATE DATABASE :"airflow_db" OWNER :"airflow_user";
-- Only the roles that need a database may connect to it (PUBLIC may, by default).
REVOKE CONNECT ON DATABASE :"iga_db" FROM PUBLIC;
REVOKE CONNECT ON DATABASE :"airflow_db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"iga_db" TO :"iga_user", iga_pipeline, iga_analyst;
GRANT CONNECT ON DATABASE :"airflow_db" TO :"airflow_user";
SQL
