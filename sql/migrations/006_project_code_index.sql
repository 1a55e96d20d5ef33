-- A submission's codes looked up in the other provinces (sql/quality/codes_in_other_provinces.sql,
-- once for every file): an index on the code alone, instead of a scan of the nation's projects
-- each time (the primary key begins with the province).
CREATE INDEX project_code_idx ON core.project (project_code);
