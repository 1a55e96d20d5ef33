-- The submission's report could not be built or delivered: kept for the next run, with why.
UPDATE core.submission
SET report_attempts = report_attempts + 1, report_error = :error, report_failed_at = now()
WHERE submission_id = :submission_id;
