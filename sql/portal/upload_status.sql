-- One upload: its dry run, whether it was submitted, and what the pipeline made of it since.
-- Reasons in both languages; a row recorded before reason_ar existed gives its French one.
SELECT u.upload_id, u.user_id, u.province_code, u.period, u.file_name, u.stored_name, u.sha256,
       u.size_bytes, u.uploaded_at, u.status AS check_status, u.rows_read AS check_rows_read,
       u.rows_loadable, u.rows_refused, u.reason AS check_reason_fr,
       coalesce(u.reason_ar, u.reason) AS check_reason_ar, u.submitted_at, u.landing_path,
       u.dag_run_id, u.trigger_note,
       s.submission_id, s.status AS submission_status, s.rows_read, s.rows_loaded, s.rows_rejected,
       s.reason AS reason_fr, coalesce(s.reason_ar, s.reason) AS reason_ar, s.received_at, s.duplicate_of
FROM portal.upload u
LEFT JOIN LATERAL (
    SELECT * FROM core.submission s
    WHERE s.landing_path = u.landing_path AND s.sha256 = u.sha256
    ORDER BY s.submission_id LIMIT 1
) s ON true
WHERE u.upload_id = CAST(:upload_id AS uuid);
