-- For each province: its latest submission, the latest period it covers, and open errors
-- (errors in its latest submission, the one that reflects the current state of its file).
WITH latest AS (
    SELECT DISTINCT ON (province_code) province_code, submission_id, period, status, received_at
    FROM core.submission
    WHERE status <> 'duplicate'
    ORDER BY province_code, period_end DESC NULLS LAST, received_at DESC
)
SELECT p.province_code, p.name_fr, p.name_ar, r.name_fr AS region_name_fr,
       l.period, l.status, l.received_at,
       (SELECT count(*) FROM quality.finding f
         WHERE f.submission_id = l.submission_id AND f.severity = 'error') AS open_errors
FROM ref.province p
JOIN ref.region r USING (region_code)
LEFT JOIN latest l USING (province_code)
ORDER BY r.region_code, p.province_code;
