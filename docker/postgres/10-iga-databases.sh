#!/bin/bash
# First start of the PostgreSQL container: one role and one database for the warehouse, one for
# Airflow's metadata. Names and passwords come from .env (see .env.example); psql quotes them.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v iga_db="$IGA_DB_NAME" -v iga_user="$IGA_DB_USER" -v iga_password="$IGA_DB_PASSWORD" \
    -v airflow_db="$AIRFLOW_DB_NAME" -v airflow_user="$AIRFLOW_DB_USER" -v airflow_password="$AIRFLOW_DB_PASSWORD" <<'SQL'
CREATE ROLE :"iga_user" LOGIN PASSWORD :'iga_password';
CREATE DATABASE :"iga_db" OWNER :"iga_user";
CREATE ROLE :"airflow_user" LOGIN PASSWORD :'airflow_password';
CREATE DATABASE :"airflow_db" OWNER :"airflow_user";
SQL
