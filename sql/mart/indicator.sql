-- Rebuild mart.indicator: every aggregate the mart views publish, in one pass over the current
-- projects. Provinces with no project still get their (zero) province row, so all 75 are listed.
DELETE FROM mart.indicator;
INSERT INTO mart.indicator
SELECT CASE
           WHEN GROUPING(p.province_code, c.approval_year) = 0 THEN 'province_year'
           WHEN GROUPING(p.region_code) = 1 AND GROUPING(c.programme_code) = 0 THEN 'programme'
           WHEN GROUPING(p.region_code) = 1 AND GROUPING(c.sector_code) = 0 THEN 'sector'
           WHEN GROUPING(p.region_code) = 1 AND GROUPING(c.promoter_type_code) = 0 THEN 'promoter_type'
           WHEN GROUPING(p.region_code) = 1 AND GROUPING(c.status_code) = 0 THEN 'status'
           WHEN GROUPING(p.region_code) = 1 AND GROUPING(c.approval_year) = 0 THEN 'approval_year'
           WHEN GROUPING(p.province_code) = 0 THEN 'province'
           WHEN GROUPING(p.region_code) = 0 THEN 'region'
           ELSE 'national'
       END AS dimension,
       p.region_code, p.province_code, c.programme_code, c.sector_code, c.promoter_type_code,
       c.status_code, c.approval_year,
       count(c.project_code),
       coalesce(sum(c.total_cost_mad), 0),
       coalesce(sum(c.indh_contribution_mad), 0),
       coalesce(sum(c.promoter_contribution_mad), 0),
       coalesce(sum(c.partner_contribution_mad), 0),
       coalesce(sum(c.beneficiaries), 0),
       coalesce(sum(c.women), 0),
       coalesce(sum(c.youth), 0),
       coalesce(sum(c.jobs_created), 0),
       count(*) FILTER (WHERE c.status_code = 'approved'),
       count(*) FILTER (WHERE c.status_code = 'in_progress'),
       count(*) FILTER (WHERE c.status_code = 'completed'),
       count(*) FILTER (WHERE c.status_code = 'in_difficulty'),
       count(*) FILTER (WHERE c.status_code = 'stopped'),
       count(DISTINCT c.province_code),
       :refreshed_at
FROM ref.province p
LEFT JOIN core.project c ON c.province_code = p.province_code
GROUP BY GROUPING SETS (
    (),
    (p.region_code),
    (p.region_code, p.province_code),
    (c.programme_code), (c.sector_code), (c.promoter_type_code), (c.status_code), (c.approval_year),
    (p.region_code, p.province_code, c.approval_year)
)
-- Breakdown groups exist only where projects do (the empty provinces' NULLs are not a group).
HAVING count(c.project_code) > 0
    OR GROUPING(c.programme_code, c.sector_code, c.promoter_type_code, c.status_code, c.approval_year) = 31;
