-- The national board for one period of the reporting calendar (:period): every province and
-- prefecture by region, with its row of mart.reporting_completeness for that period (submissions,
-- arrivals, latest status, rows loaded and refused), when a usable file first arrived (Casablanca
-- date, for on time / late), and its latest submission of any period with the errors still open.
WITH latest AS (
    SELECT DISTINCT ON (province_code) province_code, submission_id, period, status
    FROM core.submission
    WHERE status <> 'duplicate'
    ORDER BY province_code, period_end DESC NULLS LAST, received_at DESC
), usable AS (
    SELECT province_code, min(received_at) AS first_received
    FROM core.submission
    WHERE period = :period AND status IN ('loaded', 'partial')
    GROUP BY province_code
)
SELECT p.province_code, p.name_fr, p.name_ar, r.region_code, r.name_fr AS region_name_fr,
       r.name_ar AS region_name_ar,
       coalesce(c.submissions, 0) AS submissions, c.first_received_at, c.last_received_at,
       c.latest_status AS period_status, coalesce(c.rows_loaded, 0) AS rows_loaded,
       coalesce(c.rows_rejected, 0) AS rows_rejected,
       (u.first_received AT TIME ZONE 'Africa/Casablanca')::date AS first_received,
       l.submission_id AS latest_submission_id, l.period AS latest_period, l.status AS latest_status,
       (SELECT count(*) FROM quality.finding f
         WHERE f.submission_id = l.submission_id AND f.severity = 'error') AS open_errors
FROM ref.province p
JOIN ref.region r USING (region_code)
LEFT JOIN mart.reporting_completeness c ON c.province_code = p.province_code AND c.period = :period
LEFT JOIN usable u ON u.province_code = p.province_code
LEFT JOIN latest l ON l.province_code = p.province_code
ORDER BY r.region_code, p.province_code;
