-- After a submission is merged, if it is now the province's latest (by period, then arrival):
-- flag the province's projects it no longer lists (kept, never deleted), and clear the flag of
-- those it lists only in refused rows (the merge already cleared the loaded ones).
-- Only rows whose flag changes are written.
UPDATE core.project p
SET absent_since_submission_id = this.submission_id
FROM core.submission this
WHERE this.submission_id = :submission_id
  AND p.province_code = this.province_code
  AND p.absent_since_submission_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM core.project_version v
                  WHERE v.submission_id = this.submission_id AND v.project_code = p.project_code)
  AND NOT EXISTS (SELECT 1 FROM quality.rejected_row r
                  WHERE r.submission_id = this.submission_id AND r.project_code = p.project_code)
  AND NOT EXISTS (SELECT 1 FROM core.submission later
                  WHERE later.province_code = this.province_code
                    AND later.status IN ('loaded', 'partial')
                    AND (later.period_end, later.received_at) > (this.period_end, this.received_at));

UPDATE core.project p
SET absent_since_submission_id = NULL
FROM quality.rejected_row r
JOIN core.submission this ON this.submission_id = r.submission_id
WHERE r.submission_id = :submission_id
  AND p.province_code = this.province_code
  AND p.project_code = r.project_code
  AND p.absent_since_submission_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM core.submission later
                  WHERE later.province_code = this.province_code
                    AND later.status IN ('loaded', 'partial')
                    AND (later.period_end, later.received_at) > (this.period_end, this.received_at));
