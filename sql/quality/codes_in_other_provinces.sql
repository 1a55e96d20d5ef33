-- Project codes of a submission that another province has already reported (current projects).
SELECT p.project_code, p.province_code, r.name_fr, r.name_ar
FROM core.project p
JOIN ref.province r USING (province_code)
WHERE p.project_code = ANY(:codes) AND p.province_code <> :province_code
ORDER BY p.project_code, p.province_code;
