-- The submission's report was delivered: never sent again.
UPDATE core.submission
SET reported_at = now(), report_attempts = report_attempts + 1, report_error = NULL
WHERE submission_id = :submission_id;
