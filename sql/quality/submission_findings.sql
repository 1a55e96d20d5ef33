-- Every finding of one submission, in the order the clerk reads the file.
SELECT sheet, excel_row, column_header, value, project_code, rule_id, severity, message_fr, message_ar
FROM quality.finding
WHERE submission_id = :submission_id
ORDER BY sheet NULLS FIRST, excel_row NULLS FIRST, finding_id;
