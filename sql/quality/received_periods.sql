-- The periods each province has sent a usable file for (loaded, or loaded in part).
SELECT DISTINCT province_code, period
FROM core.submission
WHERE status IN ('loaded', 'partial')
ORDER BY province_code, period;
