-- Why a file was refused (or is a duplicate), in Arabic beside the French `reason`: the Arabic
-- pages and reports show it. Rows recorded before this migration get the Arabic message of the
-- finding whose French message is their reason (a refusal always records that finding); the rest
-- (duplicates, "no row could be loaded") keep NULL and the readers show the French reason.
ALTER TABLE core.submission ADD COLUMN reason_ar text;
ALTER TABLE portal.upload ADD COLUMN reason_ar text;

UPDATE core.submission s
SET reason_ar = (SELECT f.message_ar FROM quality.finding f
                 WHERE f.submission_id = s.submission_id AND f.message_fr = s.reason
                 ORDER BY f.finding_id LIMIT 1)
WHERE s.reason IS NOT NULL;
