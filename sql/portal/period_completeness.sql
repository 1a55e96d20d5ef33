-- mart.reporting_completeness for one period of the reporting calendar (:period): what the board
-- shows beside each province's line of sql/quality/completeness.sql (etl/board.py).
SELECT province_code, submissions, first_received_at, last_received_at, latest_status AS period_status,
       rows_loaded, rows_rejected
FROM mart.reporting_completeness
WHERE period = :period;
