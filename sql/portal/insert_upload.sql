-- A file a clerk uploaded and the verdict of its dry run (etl/uploads.py).
INSERT INTO portal.upload (upload_id, user_id, province_code, period, file_name, stored_name, sha256,
                           size_bytes, status, rows_read, rows_loadable, rows_refused, reason, reason_ar)
VALUES (CAST(:upload_id AS uuid), :user_id, :province_code, :period, :file_name, :stored_name, :sha256,
        :size_bytes, :status, :rows_read, :rows_loadable, :rows_refused, :reason, :reason_ar);
