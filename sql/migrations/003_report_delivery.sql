-- A quality report that could not be built or mailed is recorded with its error and retried by the
-- next run (reported_at stays NULL); one submission's failure never holds back the others.
ALTER TABLE core.submission ADD COLUMN IF NOT EXISTS report_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE core.submission ADD COLUMN IF NOT EXISTS report_error text;
ALTER TABLE core.submission ADD COLUMN IF NOT EXISTS report_failed_at timestamptz;
COMMENT ON COLUMN core.submission.report_error IS
    'Why the last attempt to build or mail this submission''s quality report failed (NULL once delivered).';
