-- The figures by region the board shows (mart.region_summary).
SELECT region_code, region_name_fr, region_name_ar, provinces_reporting, projects, total_cost_mad,
       indh_contribution_mad, beneficiaries, women, youth, jobs_created
FROM mart.region_summary
ORDER BY region_code;
