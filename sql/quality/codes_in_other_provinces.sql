-- Project codes of a submission that another province has already reported (current projects).
-- Only the codes: the province's own report does not say which province (the national digest does,
-- from codes_shared.sql).
SELECT DISTINCT p.project_code, p.province_code
FROM core.project p
WHERE p.project_code = ANY(:codes) AND p.province_code <> :province_code
ORDER BY p.project_code, p.province_code;
