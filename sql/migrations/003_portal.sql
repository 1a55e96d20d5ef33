-- The provinces' portal: its accounts, one-time password links, login attempts (throttling), the
-- files clerks upload (checked, then submitted) and an audit of who did what, when, from where.
-- Its own schema: analysts (iga_analyst) are not granted it, so password hashes stay out of reach.
CREATE SCHEMA portal;

CREATE TABLE portal.user_account (
    user_id       bigserial PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    province_code text REFERENCES ref.province,  -- NULL: the national coordination
    password_hash text,                          -- argon2id; NULL until the one-time link is used
    language      text NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'ar')),
    active        boolean NOT NULL DEFAULT true,
    session_epoch integer NOT NULL DEFAULT 0,     -- bumped on disable / new password: old sessions end
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    disabled_at   timestamptz
);
COMMENT ON TABLE portal.user_account IS
    'Portal accounts: a province clerk (province_code set) or the national coordination (NULL).';

CREATE TABLE portal.password_token (
    token_sha256 char(64) PRIMARY KEY,           -- the link holds the token; only its hash is kept
    user_id      bigint NOT NULL REFERENCES portal.user_account,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);

CREATE TABLE portal.login_attempt (
    attempted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    email        text NOT NULL,
    address      text,
    succeeded    boolean NOT NULL
);
CREATE INDEX login_attempt_email ON portal.login_attempt (email, attempted_at);
CREATE INDEX login_attempt_address ON portal.login_attempt (address, attempted_at);

-- A file a clerk uploaded: kept in $IGA_HOME/portal/uploads/<upload_id>/ with its dry run, until
-- it is submitted into the landing folder (landing_path) or abandoned.
CREATE TABLE portal.upload (
    upload_id      uuid PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES portal.user_account,
    province_code  text NOT NULL REFERENCES ref.province,
    period         text NOT NULL,
    file_name      text NOT NULL,                -- as the clerk named it (shown, never used as a path)
    stored_name    text NOT NULL,                -- sanitised
    sha256         char(64) NOT NULL,
    size_bytes     bigint NOT NULL,
    uploaded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    status         text NOT NULL CHECK (status IN ('loaded', 'partial', 'refused')),  -- the dry run's verdict
    rows_read      integer NOT NULL,
    rows_loadable  integer NOT NULL,
    rows_refused   integer NOT NULL,
    reason         text,
    submitted_at   timestamptz,
    landing_path   text,                         -- relative to the landing folder, once submitted
    dag_run_id     text,                         -- the iga_ingest run the portal asked Airflow for
    trigger_note   text
);
CREATE INDEX upload_province ON portal.upload (province_code, uploaded_at DESC);
CREATE INDEX upload_landing ON portal.upload (landing_path, sha256);

CREATE TABLE portal.audit (
    audit_id      bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id       bigint REFERENCES portal.user_account,
    email         text,
    address       text,
    action        text NOT NULL,
    province_code text,
    object        text,                          -- an upload id, a submission id, a file name
    detail        text
);
CREATE INDEX audit_at ON portal.audit (at);
COMMENT ON TABLE portal.audit IS
    'Who logged in, uploaded, checked, submitted or downloaded what, when, and from which address.';
