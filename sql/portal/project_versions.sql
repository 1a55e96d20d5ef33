-- Every version of one project (core.project_version), newest first, with its file, sheet and row.
SELECT v.submission_id, s.period, s.file_name, s.received_at, s.status, v.source_sheet, v.source_row,
       v.title, v.commune, v.status_code, v.approval_year, v.total_cost_mad, v.indh_contribution_mad,
       v.promoter_contribution_mad, v.partner_contribution_mad, v.beneficiaries, v.women, v.youth,
       v.jobs_created,
       (v.submission_id = p.submission_id) AS is_current
FROM core.project_version v
JOIN core.submission s USING (submission_id)
LEFT JOIN core.project p ON p.province_code = v.province_code AND p.project_code = v.project_code
WHERE v.province_code = :province_code AND v.project_code = :project_code
ORDER BY s.period_end DESC NULLS LAST, s.received_at DESC;
