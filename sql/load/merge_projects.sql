-- Merge one submission's rows (already in core.project_version) into the current projects.
-- A row replaces the current one only if its submission is for a later period, or for the same
-- period and arrived later: an old period arriving late never overwrites newer data.
INSERT INTO core.project AS cur (
    province_code, project_code, commune, title, programme_code, sector_code, promoter_type_code,
    promoter_name, approval_year, start_date, status_code, total_cost_mad, indh_contribution_mad,
    promoter_contribution_mad, partner_contribution_mad, beneficiaries, women, youth, jobs_created,
    submission_id, period_end, received_at, source_sheet, source_row)
SELECT v.province_code, v.project_code, v.commune, v.title, v.programme_code, v.sector_code,
       v.promoter_type_code, v.promoter_name, v.approval_year, v.start_date, v.status_code,
       v.total_cost_mad, v.indh_contribution_mad, v.promoter_contribution_mad,
       v.partner_contribution_mad, v.beneficiaries, v.women, v.youth, v.jobs_created,
       s.submission_id, s.period_end, s.received_at, v.source_sheet, v.source_row
FROM core.project_version v
JOIN core.submission s USING (submission_id)
WHERE v.submission_id = :submission_id
ON CONFLICT (province_code, project_code) DO UPDATE SET
    commune = EXCLUDED.commune, title = EXCLUDED.title, programme_code = EXCLUDED.programme_code,
    sector_code = EXCLUDED.sector_code, promoter_type_code = EXCLUDED.promoter_type_code,
    promoter_name = EXCLUDED.promoter_name, approval_year = EXCLUDED.approval_year,
    start_date = EXCLUDED.start_date, status_code = EXCLUDED.status_code,
    total_cost_mad = EXCLUDED.total_cost_mad, indh_contribution_mad = EXCLUDED.indh_contribution_mad,
    promoter_contribution_mad = EXCLUDED.promoter_contribution_mad,
    partner_contribution_mad = EXCLUDED.partner_contribution_mad,
    beneficiaries = EXCLUDED.beneficiaries, women = EXCLUDED.women, youth = EXCLUDED.youth,
    jobs_created = EXCLUDED.jobs_created, submission_id = EXCLUDED.submission_id,
    period_end = EXCLUDED.period_end, received_at = EXCLUDED.received_at,
    source_sheet = EXCLUDED.source_sheet, source_row = EXCLUDED.source_row,
    absent_since_submission_id = NULL
WHERE (EXCLUDED.period_end, EXCLUDED.received_at) >= (cur.period_end, cur.received_at);
