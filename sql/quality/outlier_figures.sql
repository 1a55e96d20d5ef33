-- The figures the outlier check compares a submission with, grouped by sector and by whether the
-- project is the submission's province's: cost per beneficiary and per job (MAD) of the current
-- projects, leaving out the province's projects the submission reports again (same code). In
-- float8 from the amount in centimes, the same divisions as etl.quality_checks._figure in Python.
SELECT sector_code,
       province_code = :province_code AS own_province,
       array_agg(total_cents::float8 / 100 / beneficiaries) FILTER (WHERE beneficiaries > 0) AS per_beneficiary,
       array_agg(total_cents::float8 / 100 / jobs_created) FILTER (WHERE jobs_created > 0) AS per_job
FROM (SELECT province_code, project_code, sector_code, (total_cost_mad * 100)::bigint AS total_cents,
             beneficiaries, jobs_created
      FROM core.project
      WHERE sector_code IS NOT NULL AND sector_code <> '' AND total_cost_mad > 0
        AND (beneficiaries > 0 OR jobs_created > 0)) AS p
WHERE NOT (province_code = :province_code AND project_code = ANY(:codes))
GROUP BY sector_code, own_province;
