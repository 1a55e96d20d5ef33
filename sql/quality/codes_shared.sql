-- For the national coordination: project codes that several provinces report (current projects),
-- with the provinces that report each one.
SELECT p.project_code,
       array_agg(p.province_code ORDER BY p.province_code) AS province_codes,
       array_agg(r.name_fr ORDER BY p.province_code) AS names_fr,
       array_agg(r.name_ar ORDER BY p.province_code) AS names_ar
FROM core.project p
JOIN ref.province r USING (province_code)
GROUP BY p.project_code
HAVING count(DISTINCT p.province_code) > 1
ORDER BY p.project_code;
