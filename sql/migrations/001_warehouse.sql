-- The warehouse's first shape: reference data, submissions, projects and their history,
-- and quality findings (the marts come in 002).
CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS quality;
CREATE SCHEMA IF NOT EXISTS mart;

-- Reference data (rows synced from reference/*.csv by `iga db migrate`).
CREATE TABLE ref.region (
    region_code text PRIMARY KEY,
    name_fr     text NOT NULL,
    name_ar     text NOT NULL
);
CREATE TABLE ref.province (
    province_code text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('province', 'prefecture')),
    name_fr       text NOT NULL,
    name_ar       text NOT NULL,
    region_code   text NOT NULL REFERENCES ref.region
);
CREATE TABLE ref.province_alias (
    alias_key     text PRIMARY KEY,
    province_code text NOT NULL REFERENCES ref.province
);
CREATE TABLE ref.programme (
    programme_code text PRIMARY KEY,
    phase          smallint NOT NULL,
    kind           text NOT NULL,
    name_fr        text NOT NULL,
    name_ar        text NOT NULL,
    first_year     smallint NOT NULL,
    last_year      smallint
);
CREATE TABLE ref.sector (
    sector_code text PRIMARY KEY,
    name_fr     text NOT NULL,
    name_ar     text NOT NULL
);
CREATE TABLE ref.status (
    status_code text PRIMARY KEY,
    name_fr     text NOT NULL,
    name_ar     text NOT NULL
);
CREATE TABLE ref.promoter_type (
    promoter_type_code text PRIMARY KEY,
    name_fr            text NOT NULL,
    name_ar            text NOT NULL
);
CREATE TABLE ref.label_alias (
    domain    text NOT NULL,
    label_key text NOT NULL,
    code      text NOT NULL,
    PRIMARY KEY (domain, label_key)
);
CREATE TABLE ref.header_synonym (
    synonym_key text PRIMARY KEY,
    column_name text NOT NULL
);
CREATE TABLE ref.rule (
    rule_id    text PRIMARY KEY,
    severity   text NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
    scope      text NOT NULL CHECK (scope IN ('file', 'row', 'cell')),
    message_fr text NOT NULL,
    message_ar text NOT NULL
);

-- One row per file seen in the landing folder.
CREATE TABLE core.submission (
    submission_id bigserial PRIMARY KEY,
    province_code text NOT NULL,
    period        text NOT NULL,
    period_end    date,
    file_name     text NOT NULL,
    landing_path  text NOT NULL,
    sha256        char(64) NOT NULL,
    size_bytes    bigint NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    status        text NOT NULL CHECK (status IN ('loaded', 'partial', 'refused', 'duplicate')),
    rows_read     integer NOT NULL DEFAULT 0,
    rows_loaded   integer NOT NULL DEFAULT 0,
    rows_rejected integer NOT NULL DEFAULT 0,
    reason        text,
    sheets        text,
    archive_path  text,
    duplicate_of  bigint REFERENCES core.submission,
    reported_at   timestamptz,
    UNIQUE (landing_path, sha256)
);
CREATE INDEX submission_sha256 ON core.submission (sha256);
CREATE INDEX submission_province_period ON core.submission (province_code, period_end);

-- Every project row of every submission, as submitted (the history).
-- The fact tables' codes are checked set-wise by each load (sql/load/check_references.sql)
-- instead of by per-row foreign-key triggers, which cost more than the rest of a load.
CREATE TABLE core.project_version (
    submission_id             bigint NOT NULL,
    province_code             text NOT NULL,
    project_code              text NOT NULL,
    commune                   text,
    title                     text,
    programme_code            text,
    sector_code               text,
    promoter_type_code        text,
    promoter_name             text,
    approval_year             smallint,
    start_date                date,
    status_code               text,
    total_cost_mad            numeric(16, 2) NOT NULL CHECK (total_cost_mad >= 0),
    indh_contribution_mad     numeric(16, 2) NOT NULL CHECK (indh_contribution_mad >= 0),
    promoter_contribution_mad numeric(16, 2) CHECK (promoter_contribution_mad >= 0),
    partner_contribution_mad  numeric(16, 2) CHECK (partner_contribution_mad >= 0),
    beneficiaries             integer CHECK (beneficiaries >= 0),
    women                     integer CHECK (women >= 0),
    youth                     integer CHECK (youth >= 0),
    jobs_created              integer CHECK (jobs_created >= 0),
    source_sheet              text NOT NULL,
    source_row                integer NOT NULL,
    PRIMARY KEY (submission_id, project_code)
);
CREATE INDEX project_version_key ON core.project_version (province_code, project_code);

-- The current state: one row per province and project code; the latest period wins, then the
-- latest arrival (see sql/load/merge_projects.sql).
CREATE TABLE core.project (
    province_code             text NOT NULL,
    project_code              text NOT NULL,
    commune                   text,
    title                     text,
    programme_code            text,
    sector_code               text,
    promoter_type_code        text,
    promoter_name             text,
    approval_year             smallint,
    start_date                date,
    status_code               text,
    total_cost_mad            numeric(16, 2) NOT NULL,
    indh_contribution_mad     numeric(16, 2) NOT NULL,
    promoter_contribution_mad numeric(16, 2),
    partner_contribution_mad  numeric(16, 2),
    beneficiaries             integer,
    women                     integer,
    youth                     integer,
    jobs_created              integer,
    submission_id             bigint NOT NULL,
    period_end                date NOT NULL,
    received_at               timestamptz NOT NULL,
    source_sheet              text NOT NULL,
    source_row                integer NOT NULL,
    PRIMARY KEY (province_code, project_code)
);

-- Findings: every problem found in a submission, pointing at the cell the clerk sees in Excel.
CREATE TABLE quality.finding (
    finding_id    bigserial PRIMARY KEY,
    submission_id bigint NOT NULL REFERENCES core.submission,
    sheet         text,
    excel_row     integer,
    column_header text,
    value         text,
    project_code  text,
    rule_id       text NOT NULL REFERENCES ref.rule,
    severity      text NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
    message_fr    text NOT NULL,
    message_ar    text NOT NULL
);
CREATE INDEX finding_submission ON quality.finding (submission_id);

-- Rows that were not loaded, kept as read so nothing is lost.
CREATE TABLE quality.rejected_row (
    submission_id bigint NOT NULL REFERENCES core.submission,
    sheet         text NOT NULL,
    excel_row     integer NOT NULL,
    project_code  text,
    raw           jsonb NOT NULL,
    PRIMARY KEY (submission_id, sheet, excel_row)
);
