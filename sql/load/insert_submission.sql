-- Record a submission; returns its id. Runs inside the submission's transaction.
INSERT INTO core.submission (
    province_code, period, period_end, file_name, landing_path, sha256, size_bytes, status,
    rows_read, rows_loaded, rows_rejected, reason, reason_ar, sheets, archive_path, duplicate_of)
VALUES (:province_code, :period, :period_end, :file_name, :landing_path, :sha256, :size_bytes,
        :status, :rows_read, :rows_loaded, :rows_rejected, :reason, :reason_ar, :sheets, :archive_path,
        :duplicate_of)
RETURNING submission_id;
