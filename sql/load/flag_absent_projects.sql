-- After a submission is merged: if it is now the province's latest (by period, then arrival),
-- flag the province's projects it no longer lists (kept, never deleted) and clear the flag of
-- those it lists again. A row refused for errors still counts as listed.
UPDATE core.project p
SET absent_since_submission_id = CASE
        WHEN EXISTS (SELECT 1 FROM core.project_version v
                     WHERE v.submission_id = :submission_id AND v.project_code = p.project_code)
          OR EXISTS (SELECT 1 FROM quality.rejected_row r
                     WHERE r.submission_id = :submission_id AND r.project_code = p.project_code)
        THEN NULL
        ELSE coalesce(p.absent_since_submission_id, :submission_id)
    END
FROM core.submission this
WHERE this.submission_id = :submission_id
  AND p.province_code = this.province_code
  AND NOT EXISTS (
        SELECT 1 FROM core.submission later
        WHERE later.province_code = this.province_code
          AND later.status IN ('loaded', 'partial')
          AND (later.period_end, later.received_at) > (this.period_end, this.received_at));
