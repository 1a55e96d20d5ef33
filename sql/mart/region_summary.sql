-- One row per region, rolled up from mart.province_summary (refreshed just before).
DELETE FROM mart.region_summary;
INSERT INTO mart.region_summary
SELECT r.region_code, r.name_fr, r.name_ar,
       count(*) FILTER (WHERE s.projects > 0)::integer,
       coalesce(sum(s.projects), 0)::integer,
       coalesce(sum(s.total_cost_mad), 0),
       coalesce(sum(s.indh_contribution_mad), 0),
       coalesce(sum(s.promoter_contribution_mad), 0),
       coalesce(sum(s.partner_contribution_mad), 0),
       coalesce(sum(s.beneficiaries), 0),
       coalesce(sum(s.women), 0),
       coalesce(sum(s.youth), 0),
       coalesce(sum(s.jobs_created), 0),
       :refreshed_at
FROM ref.region r
LEFT JOIN mart.province_summary s USING (region_code)
GROUP BY r.region_code, r.name_fr, r.name_ar;
