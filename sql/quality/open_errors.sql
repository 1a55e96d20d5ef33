-- Errors still open per province: those of its latest submission (latest period, then latest
-- arrival), in the order the clerk reads the file.
WITH latest AS (
    SELECT DISTINCT ON (province_code) province_code, submission_id, period, file_name
    FROM core.submission
    WHERE status <> 'duplicate'
    ORDER BY province_code, period_end DESC NULLS LAST, received_at DESC
)
SELECT l.province_code, l.period, l.file_name, f.sheet, f.excel_row, f.column_header, f.value,
       f.project_code, f.rule_id, f.message_fr, f.message_ar
FROM latest l
JOIN quality.finding f USING (submission_id)
WHERE f.severity = 'error'
ORDER BY l.province_code, f.sheet NULLS FIRST, f.excel_row NULLS FIRST, f.finding_id;
