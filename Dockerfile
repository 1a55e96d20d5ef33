# The project's Airflow image for docker-compose.yml: official Airflow 3.3.2 on Python 3.11 (the
# versions pyproject.toml pins) with iga-pipeline installed at the versions constraints.txt pins.
# Every Airflow service (API server, scheduler, DAG processor, triggerer, Celery workers) runs it.
FROM apache/airflow:3.3.2-python3.11

# The state folder: landing, archive, published, reports, outbox (volumes in docker-compose.yml).
USER root
RUN mkdir -p /var/lib/iga/landing /var/lib/iga/archive /var/lib/iga/published /var/lib/iga/reports \
             /var/lib/iga/outbox /opt/airflow/auth \
    && chown -R airflow:0 /var/lib/iga /opt/airflow/auth
USER airflow

# Installed in place (editable): the package finds sql/, reference/, expectations/ and dags/ beside it.
WORKDIR /opt/iga-pipeline
COPY --chown=airflow:0 pyproject.toml constraints.txt README.md ./
COPY --chown=airflow:0 etl ./etl
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 sql ./sql
COPY --chown=airflow:0 reference ./reference
COPY --chown=airflow:0 expectations ./expectations
RUN pip install --no-cache-dir -c constraints.txt -e .

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/iga-pipeline/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    IGA_HOME=/var/lib/iga \
    IGA_LANDING=/var/lib/iga/landing
WORKDIR /opt/airflow
