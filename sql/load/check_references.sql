-- Codes in one submission's rows that the reference tables do not know (must return nothing:
-- the reader maps labels onto these tables, so a row here is a pipeline fault, not a clerk's).
SELECT DISTINCT 'province_code' AS column_name, v.province_code AS code
FROM core.project_version v LEFT JOIN ref.province r USING (province_code)
WHERE v.submission_id = :submission_id AND r.province_code IS NULL
UNION ALL
SELECT DISTINCT 'programme_code', v.programme_code
FROM core.project_version v LEFT JOIN ref.programme r USING (programme_code)
WHERE v.submission_id = :submission_id AND v.programme_code IS NOT NULL AND r.programme_code IS NULL
UNION ALL
SELECT DISTINCT 'sector_code', v.sector_code
FROM core.project_version v LEFT JOIN ref.sector r USING (sector_code)
WHERE v.submission_id = :submission_id AND v.sector_code IS NOT NULL AND r.sector_code IS NULL
UNION ALL
SELECT DISTINCT 'promoter_type_code', v.promoter_type_code
FROM core.project_version v LEFT JOIN ref.promoter_type r USING (promoter_type_code)
WHERE v.submission_id = :submission_id AND v.promoter_type_code IS NOT NULL AND r.promoter_type_code IS NULL
UNION ALL
SELECT DISTINCT 'status_code', v.status_code
FROM core.project_version v LEFT JOIN ref.status r USING (status_code)
WHERE v.submission_id = :submission_id AND v.status_code IS NOT NULL AND r.status_code IS NULL;
