-- The current projects the outlier check compares a submission with: only what the cost per
-- beneficiary and per job need (amounts in centimes, like the reader's rows).
SELECT province_code, project_code, sector_code, approval_year,
       (total_cost_mad * 100)::bigint AS total_cost_mad, beneficiaries, jobs_created
FROM core.project
WHERE sector_code IS NOT NULL AND total_cost_mad > 0
  AND (beneficiaries > 0 OR jobs_created > 0);
