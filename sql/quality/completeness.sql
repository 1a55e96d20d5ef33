-- For each province, for one period of the reporting calendar (:period): when a usable file for it
-- first arrived (Casablanca date), its latest submission of any period, and the errors still open
-- in that latest submission (the one that reflects the current state of the province's file).
WITH latest AS (
    SELECT DISTINCT ON (province_code) province_code, submission_id, period, status
    FROM core.submission
    WHERE status <> 'duplicate'
    ORDER BY province_code, period_end DESC NULLS LAST, received_at DESC
), for_period AS (
    SELECT province_code, min(received_at) AS first_received
    FROM core.submission
    WHERE period = :period AND status IN ('loaded', 'partial')
    GROUP BY province_code
)
SELECT p.province_code, p.name_fr, p.name_ar, r.region_code, r.name_fr AS region_name_fr,
       r.name_ar AS region_name_ar,
       (fp.first_received AT TIME ZONE 'Africa/Casablanca')::date AS first_received,
       l.submission_id AS latest_submission_id, l.period AS latest_period, l.status AS latest_status,
       (SELECT count(*) FROM quality.finding f
         WHERE f.submission_id = l.submission_id AND f.severity = 'error') AS open_errors
FROM ref.province p
JOIN ref.region r USING (region_code)
LEFT JOIN latest l USING (province_code)
LEFT JOIN for_period fp USING (province_code)
ORDER BY r.region_code, p.province_code;
