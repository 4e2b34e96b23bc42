-- Commlog's roles and database, for the official postgres image (16 or later): mounted into
-- /docker-entrypoint-initdb.d/, it runs once, when the data volume is first initialised, as the
-- superuser, with psql (ON_ERROR_STOP is on).
--
-- The passwords come from the container's environment (PG_OWNER_PASSWORD, PG_APP_PASSWORD), which
-- docker-compose.yml sets; its defaults are development values only.
--
--   commlog_owner  owns the database and, through `commlog migrate`, every table.
--   commlog_app    what the programs connect as: not a superuser, no BYPASSRLS, owns nothing, so
--                  row-level security applies to it (the migrations grant it what it needs).

\getenv owner_password PG_OWNER_PASSWORD
\getenv app_password PG_APP_PASSWORD

\if :{?owner_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'PG_OWNER_PASSWORD is not set in the postgres container''s environment'; END $$;
\endif
\if :{?app_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'PG_APP_PASSWORD is not set in the postgres container''s environment'; END $$;
\endif

CREATE ROLE commlog_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE commlog_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD :'app_password';

-- In PostgreSQL 15 and later the public schema belongs to the database owner and nobody else may
-- create in it, so commlog_owner can migrate and commlog_app cannot create tables.
CREATE DATABASE commlog OWNER commlog_owner;
GRANT CONNECT ON DATABASE commlog TO commlog_app;
