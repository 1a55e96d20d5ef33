-- The single national row, rolled up from mart.province_summary.
DELETE FROM mart.national_summary;
INSERT INTO mart.national_summary
SELECT count(*) FILTER (WHERE projects > 0)::integer,
       coalesce(sum(projects), 0)::integer,
       coalesce(sum(total_cost_mad), 0),
       coalesce(sum(indh_contribution_mad), 0),
       coalesce(sum(promoter_contribution_mad), 0),
       coalesce(sum(partner_contribution_mad), 0),
       coalesce(sum(beneficiaries), 0),
       coalesce(sum(women), 0),
       coalesce(sum(youth), 0),
       coalesce(sum(jobs_created), 0),
       :refreshed_at
FROM mart.province_summary;
