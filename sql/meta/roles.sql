-- Roles and grants, re-applied after every migration so new objects are covered too.
-- iga_pipeline owns the warehouse's schemas and objects (the pipeline's login is a member);
-- iga_analyst reads ref, core, quality and mart and writes nothing (not portal: its accounts). Both are NOLOGIN group
-- roles: give an analyst a login with  CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE iga_analyst;
DO $$
DECLARE
    obj record;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iga_pipeline') THEN
        CREATE ROLE iga_pipeline NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iga_analyst') THEN
        CREATE ROLE iga_analyst NOLOGIN;
    END IF;
    IF NOT pg_has_role(current_user, 'iga_pipeline', 'MEMBER') THEN
        EXECUTE format('GRANT iga_pipeline TO %I', current_user);
    END IF;

    FOR obj IN SELECT nspname FROM pg_namespace
               WHERE nspname IN ('ref', 'core', 'quality', 'mart', 'meta', 'portal')
                 AND pg_get_userbyid(nspowner) <> 'iga_pipeline' LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO iga_pipeline', obj.nspname);
    END LOOP;
    FOR obj IN SELECT n.nspname, c.relname, c.relkind FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname IN ('ref', 'core', 'quality', 'mart', 'meta', 'portal')
                 AND c.relkind IN ('r', 'v', 'm', 'p')
                 AND pg_get_userbyid(c.relowner) <> 'iga_pipeline' LOOP
        EXECUTE format('ALTER %s %I.%I OWNER TO iga_pipeline',
                       CASE obj.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                       obj.nspname, obj.relname);
    END LOOP;
    FOR obj IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname IN ('ref', 'core', 'quality', 'mart', 'meta', 'portal')
                 AND pg_get_userbyid(p.proowner) <> 'iga_pipeline' LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO iga_pipeline', obj.signature);
    END LOOP;
END
$$;

GRANT USAGE ON SCHEMA ref, core, quality, mart TO iga_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA ref, core, quality, mart TO iga_analyst;
GRANT EXECUTE ON FUNCTION core.project_as_of(timestamptz) TO iga_analyst;
REVOKE ALL ON SCHEMA meta FROM PUBLIC;
-- The portal's accounts and audit (password hashes): the pipeline's login only, never analysts.
REVOKE ALL ON SCHEMA portal FROM PUBLIC;

-- Only the warehouse's roles may connect to its database (PUBLIC may, by default): applied when the
-- migrating login owns the database (or is a superuser); docker/postgres does it at first start.
DO $$
BEGIN
    IF (SELECT pg_has_role(current_user, datdba, 'MEMBER') FROM pg_database WHERE datname = current_database())
       OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', current_database());
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO iga_pipeline, iga_analyst', current_database());
    END IF;
END
$$;
