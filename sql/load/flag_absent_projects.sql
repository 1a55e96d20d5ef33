-- After a submission is merged, if it is now the province's latest (by period, then arrival):
-- flag the province's projects it no longer lists (kept, never deleted), and clear the flag of
-- those it lists only in refused rows (the merge already cleared the loaded ones). Only rows
-- whose flag changes are written.
--
-- When this submission is the latest, the merge rewrote every project it loaded (their
-- submission_id is now this one), so a project still carrying an older submission_id was not
-- loaded from this file: absent, unless it was listed in a refused row. The two updates touch
-- disjoint rows (flag IS NULL / IS NOT NULL).
WITH this AS (
    SELECT s.submission_id, s.province_code FROM core.submission s
    WHERE s.submission_id = :submission_id
      AND NOT EXISTS (SELECT 1 FROM core.submission later
                      WHERE later.province_code = s.province_code
                        AND later.status IN ('loaded', 'partial')
                        AND (later.period_end, later.received_at) > (s.period_end, s.received_at))
), flagged AS (
    UPDATE core.project p
    SET absent_since_submission_id = this.submission_id
    FROM this
    WHERE p.province_code = this.province_code
      AND p.submission_id <> this.submission_id
      AND p.absent_since_submission_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM quality.rejected_row r
                      WHERE r.submission_id = this.submission_id AND r.project_code = p.project_code)
    RETURNING p.project_code
)
UPDATE core.project p
SET absent_since_submission_id = NULL
FROM this
JOIN quality.rejected_row r ON r.submission_id = this.submission_id
WHERE p.province_code = this.province_code
  AND p.project_code = r.project_code
  AND p.absent_since_submission_id IS NOT NULL;
