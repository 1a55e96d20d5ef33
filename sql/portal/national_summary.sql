-- The national figures the board shows (mart.national_summary).
SELECT provinces_reporting, projects, total_cost_mad, indh_contribution_mad, promoter_contribution_mad,
       partner_contribution_mad, beneficiaries, women, youth, jobs_created, indh_share, promoter_share,
       cost_per_job_mad, women_share, youth_share, refreshed_at
FROM mart.national_summary;
