-- One submission as the pipeline recorded it, with its province's names. Its reason in both
-- languages: a row recorded before reason_ar existed shows its French reason on Arabic pages.
SELECT s.submission_id, s.province_code, p.name_fr AS province_name_fr, p.name_ar AS province_name_ar,
       s.period, s.file_name, s.landing_path, s.received_at, s.status, s.rows_read, s.rows_loaded,
       s.rows_rejected, s.reason AS reason_fr, coalesce(s.reason_ar, s.reason) AS reason_ar, s.sheets, s.duplicate_of, s.reported_at
FROM core.submission s
LEFT JOIN ref.province p USING (province_code)
WHERE s.submission_id = :submission_id;
