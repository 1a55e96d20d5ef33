-- A province's deliveries, newest first: the pipeline's submissions (linked to the portal upload
-- that brought them, if any), then portal submissions the pipeline has not recorded yet.
SELECT s.submission_id, u.upload_id, s.period, s.file_name, s.received_at AS delivered_at, s.status,
       s.rows_read, s.rows_loaded, s.rows_rejected, s.reason AS reason_fr,
       coalesce(s.reason_ar, s.reason) AS reason_ar  -- older rows: the French reason
FROM core.submission s
LEFT JOIN portal.upload u ON u.landing_path = s.landing_path AND u.sha256 = s.sha256
WHERE s.province_code = :province_code
UNION ALL
SELECT NULL, u.upload_id, u.period, u.file_name, u.submitted_at, 'received', u.rows_read, NULL, NULL, NULL, NULL
FROM portal.upload u
WHERE u.province_code = :province_code AND u.submitted_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM core.submission s WHERE s.landing_path = u.landing_path AND s.sha256 = u.sha256)
ORDER BY delivered_at DESC
LIMIT 200;
