-- A province's current projects (core.project) with the file, sheet and row each figure came from.
SELECT p.project_code, p.title, p.commune, p.status_code, p.approval_year, p.total_cost_mad,
       p.indh_contribution_mad, p.beneficiaries, p.jobs_created, p.submission_id, s.period,
       s.file_name, p.source_sheet, p.source_row, p.absent_since_submission_id
FROM core.project p
JOIN core.submission s USING (submission_id)
WHERE p.province_code = :province_code
ORDER BY p.project_code
LIMIT 2000;
