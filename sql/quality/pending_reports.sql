-- Submissions whose quality report has not been delivered yet (oldest first).
SELECT s.submission_id, s.province_code, p.name_fr AS province_name_fr, p.name_ar AS province_name_ar,
       s.period, s.file_name, s.status, s.rows_read, s.rows_loaded, s.rows_rejected, s.reason,
       coalesce(s.reason_ar, s.reason) AS reason_ar,
       s.sheets, s.received_at
FROM core.submission s
LEFT JOIN ref.province p USING (province_code)
WHERE s.reported_at IS NULL
ORDER BY s.submission_id;
