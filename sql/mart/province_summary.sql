-- One row per province (all 75, zero where nothing is reported) from the current projects.
DELETE FROM mart.province_summary;
INSERT INTO mart.province_summary
SELECT p.province_code, p.name_fr, p.name_ar, p.region_code, r.name_fr,
       count(c.project_code)::integer,
       coalesce(sum(c.total_cost_mad), 0),
       coalesce(sum(c.indh_contribution_mad), 0),
       coalesce(sum(c.promoter_contribution_mad), 0),
       coalesce(sum(c.partner_contribution_mad), 0),
       coalesce(sum(c.beneficiaries), 0),
       coalesce(sum(c.women), 0),
       coalesce(sum(c.youth), 0),
       coalesce(sum(c.jobs_created), 0),
       :refreshed_at
FROM ref.province p
JOIN ref.region r USING (region_code)
LEFT JOIN core.project c USING (province_code)
GROUP BY p.province_code, p.name_fr, p.name_ar, p.region_code, r.name_fr;
