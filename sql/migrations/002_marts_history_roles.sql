-- Warehouse analysts can trust: projects absent from a newer file are flagged, history can be
-- asked "as of" a time, marts are computed once (mart.indicator) and read through documented views.

ALTER TABLE core.project
    ADD COLUMN absent_since_submission_id bigint REFERENCES core.submission;
COMMENT ON COLUMN core.project.absent_since_submission_id IS
    'Set when the province''s latest submission no longer lists this project: kept, not deleted; NULL while it is listed.';

-- What the warehouse knew at a given time: for each province and project code, the version from
-- the submission that was current then (latest period, then latest arrival, among those received).
CREATE FUNCTION core.project_as_of(as_of timestamptz)
RETURNS TABLE (
    province_code text, project_code text, commune text, title text, programme_code text,
    sector_code text, promoter_type_code text, promoter_name text, approval_year smallint,
    start_date date, status_code text, total_cost_mad numeric, indh_contribution_mad numeric,
    promoter_contribution_mad numeric, partner_contribution_mad numeric, beneficiaries integer,
    women integer, youth integer, jobs_created integer, submission_id bigint, period text,
    received_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (v.province_code, v.project_code)
           v.province_code, v.project_code, v.commune, v.title, v.programme_code, v.sector_code,
           v.promoter_type_code, v.promoter_name, v.approval_year, v.start_date, v.status_code,
           v.total_cost_mad, v.indh_contribution_mad, v.promoter_contribution_mad,
           v.partner_contribution_mad, v.beneficiaries, v.women, v.youth, v.jobs_created,
           s.submission_id, s.period, s.received_at
    FROM core.project_version v
    JOIN core.submission s USING (submission_id)
    WHERE s.received_at <= as_of
    ORDER BY v.province_code, v.project_code, s.period_end DESC, s.received_at DESC
$$;
COMMENT ON FUNCTION core.project_as_of(timestamptz) IS
    'The projects as the warehouse knew them at a time: SELECT * FROM core.project_as_of(''2014-01-01'').';

-- Every aggregate the marts publish, computed in one pass over core.project (sql/mart/indicator.sql).
CREATE TABLE mart.indicator (
    dimension                 text NOT NULL,
    region_code               text,
    province_code             text,
    programme_code            text,
    sector_code               text,
    promoter_type_code        text,
    status_code               text,
    approval_year             smallint,
    projects                  integer NOT NULL,
    total_cost_mad            numeric(18, 2) NOT NULL,
    indh_contribution_mad     numeric(18, 2) NOT NULL,
    promoter_contribution_mad numeric(18, 2) NOT NULL,
    partner_contribution_mad  numeric(18, 2) NOT NULL,
    beneficiaries             bigint NOT NULL,
    women                     bigint NOT NULL,
    youth                     bigint NOT NULL,
    jobs_created              bigint NOT NULL,
    projects_approved         integer NOT NULL,
    projects_in_progress      integer NOT NULL,
    projects_completed        integer NOT NULL,
    projects_in_difficulty    integer NOT NULL,
    projects_stopped          integer NOT NULL,
    provinces_reporting       integer NOT NULL,
    refreshed_at              timestamptz NOT NULL
);
CREATE INDEX indicator_dimension ON mart.indicator (dimension, province_code);

-- Sums plus the ratios analysts quote, computed in one place for every grain.
CREATE VIEW mart.indicator_measures AS
SELECT i.*,
       round(indh_contribution_mad / nullif(total_cost_mad, 0), 4) AS indh_share,
       round(promoter_contribution_mad / nullif(total_cost_mad, 0), 4) AS promoter_share,
       round((promoter_contribution_mad + partner_contribution_mad) / nullif(indh_contribution_mad, 0), 4)
           AS partner_leverage,
       round(total_cost_mad / nullif(beneficiaries, 0), 2) AS cost_per_beneficiary_mad,
       round(total_cost_mad / nullif(jobs_created, 0), 2) AS cost_per_job_mad,
       round(women::numeric / nullif(beneficiaries, 0), 4) AS women_share,
       round(youth::numeric / nullif(beneficiaries, 0), 4) AS youth_share,
       round(projects_completed::numeric / nullif(projects, 0), 4) AS completed_share,
       round(projects_in_difficulty::numeric / nullif(projects, 0), 4) AS in_difficulty_share
FROM mart.indicator i;

CREATE VIEW mart.province_summary AS
SELECT m.province_code, p.name_fr AS province_name_fr, p.name_ar AS province_name_ar, p.region_code,
       r.name_fr AS region_name_fr,
       m.projects, m.total_cost_mad, m.indh_contribution_mad, m.promoter_contribution_mad,
       m.partner_contribution_mad, m.beneficiaries, m.women, m.youth, m.jobs_created,
       m.projects_approved, m.projects_in_progress, m.projects_completed, m.projects_in_difficulty,
       m.projects_stopped, m.indh_share, m.promoter_share, m.partner_leverage,
       m.cost_per_beneficiary_mad, m.cost_per_job_mad, m.women_share, m.youth_share,
       m.completed_share, m.in_difficulty_share, m.refreshed_at
FROM mart.indicator_measures m
JOIN ref.province p USING (province_code)
JOIN ref.region r ON r.region_code = p.region_code
WHERE m.dimension = 'province';

CREATE VIEW mart.region_summary AS
SELECT m.region_code, r.name_fr AS region_name_fr, r.name_ar AS region_name_ar, m.provinces_reporting,
       m.projects, m.total_cost_mad, m.indh_contribution_mad, m.promoter_contribution_mad,
       m.partner_contribution_mad, m.beneficiaries, m.women, m.youth, m.jobs_created,
       m.projects_approved, m.projects_in_progress, m.projects_completed, m.projects_in_difficulty,
       m.projects_stopped, m.indh_share, m.promoter_share, m.partner_leverage,
       m.cost_per_beneficiary_mad, m.cost_per_job_mad, m.women_share, m.youth_share,
       m.completed_share, m.in_difficulty_share, m.refreshed_at
FROM mart.indicator_measures m
JOIN ref.region r USING (region_code)
WHERE m.dimension = 'region';

CREATE VIEW mart.national_summary AS
SELECT m.provinces_reporting,
       m.projects, m.total_cost_mad, m.indh_contribution_mad, m.promoter_contribution_mad,
       m.partner_contribution_mad, m.beneficiaries, m.women, m.youth, m.jobs_created,
       m.projects_approved, m.projects_in_progress, m.projects_completed, m.projects_in_difficulty,
       m.projects_stopped, m.indh_share, m.promoter_share, m.partner_leverage,
       m.cost_per_beneficiary_mad, m.cost_per_job_mad, m.women_share, m.youth_share,
       m.completed_share, m.in_difficulty_share, m.refreshed_at
FROM mart.indicator_measures m
WHERE m.dimension = 'national';

-- National figures broken down by one attribute of the projects at a time.
CREATE VIEW mart.breakdown_summary AS
SELECT m.dimension, coalesce(m.programme_code, m.sector_code, m.promoter_type_code, m.status_code,
                             m.approval_year::text) AS code,
       coalesce(pg.name_fr, se.name_fr, pt.name_fr, st.name_fr, m.approval_year::text, 'Non renseigné') AS name_fr,
       coalesce(pg.name_ar, se.name_ar, pt.name_ar, st.name_ar, m.approval_year::text, 'غير محدد') AS name_ar,
       pg.phase AS programme_phase, m.provinces_reporting,
       m.projects, m.total_cost_mad, m.indh_contribution_mad, m.promoter_contribution_mad,
       m.partner_contribution_mad, m.beneficiaries, m.women, m.youth, m.jobs_created,
       m.projects_approved, m.projects_in_progress, m.projects_completed, m.projects_in_difficulty,
       m.projects_stopped, m.indh_share, m.promoter_share, m.partner_leverage,
       m.cost_per_beneficiary_mad, m.cost_per_job_mad, m.women_share, m.youth_share,
       m.completed_share, m.in_difficulty_share, m.refreshed_at
FROM mart.indicator_measures m
LEFT JOIN ref.programme pg ON pg.programme_code = m.programme_code
LEFT JOIN ref.sector se ON se.sector_code = m.sector_code
LEFT JOIN ref.promoter_type pt ON pt.promoter_type_code = m.promoter_type_code
LEFT JOIN ref.status st ON st.status_code = m.status_code
WHERE m.dimension IN ('programme', 'sector', 'promoter_type', 'status', 'approval_year');

-- Each province's projects by approval year: the series behind the charts "over time".
CREATE VIEW mart.province_year_summary AS
SELECT m.province_code, p.name_fr AS province_name_fr, p.region_code, m.approval_year,
       m.projects, m.total_cost_mad, m.indh_contribution_mad, m.promoter_contribution_mad,
       m.partner_contribution_mad, m.beneficiaries, m.women, m.youth, m.jobs_created,
       m.refreshed_at
FROM mart.indicator_measures m
JOIN ref.province p USING (province_code)
WHERE m.dimension = 'province_year';

-- Who has reported what: one row per province and period with its latest submission.
CREATE VIEW mart.reporting_completeness AS
SELECT p.province_code, p.name_fr AS province_name_fr, p.region_code, s.period,
       count(*) FILTER (WHERE s.status <> 'duplicate') AS submissions,
       min(s.received_at) AS first_received_at, max(s.received_at) AS last_received_at,
       (array_agg(s.status ORDER BY s.received_at DESC) FILTER (WHERE s.status <> 'duplicate'))[1]
           AS latest_status,
       sum(s.rows_loaded) AS rows_loaded, sum(s.rows_rejected) AS rows_rejected
FROM ref.province p
JOIN core.submission s USING (province_code)
GROUP BY p.province_code, p.name_fr, p.region_code, s.period;

-- COMMENT ON cannot take bind parameters: this function lets the migrator set the data
-- dictionary (reference/data_dictionary.csv) with bound values, quoting identifiers server-side.
CREATE FUNCTION meta.set_comment(object_schema text, object_name text, column_name text, comment text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    kind "char";
BEGIN
    SELECT c.relkind INTO kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = object_schema AND c.relname = object_name;
    IF column_name IS NOT NULL AND column_name <> '' THEN
        EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', object_schema, object_name, column_name, comment);
    ELSIF kind = 'v' THEN
        EXECUTE format('COMMENT ON VIEW %I.%I IS %L', object_schema, object_name, comment);
    ELSE
        EXECUTE format('COMMENT ON TABLE %I.%I IS %L', object_schema, object_name, comment);
    END IF;
END
$$;
