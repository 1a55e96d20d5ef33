-- The first delivery of the same bytes by this province: recorded by the pipeline (whatever its
-- name) or submitted through the portal and not loaded yet. No row: these bytes are new.
SELECT source, submission_id, landing_path, delivered_at, status
FROM (
    SELECT 'pipeline' AS source, s.submission_id, s.landing_path, s.received_at AS delivered_at, s.status
    FROM core.submission s
    WHERE s.sha256 = :sha256 AND s.province_code = :province_code
      AND s.status IN ('loaded', 'partial', 'refused')
    UNION ALL
    SELECT 'portal', NULL, u.landing_path, u.submitted_at, NULL
    FROM portal.upload u
    WHERE u.sha256 = :sha256 AND u.province_code = :province_code AND u.submitted_at IS NOT NULL
      AND u.upload_id IS DISTINCT FROM CAST(:upload_id AS uuid)
) deliveries
ORDER BY delivered_at
LIMIT 1;
