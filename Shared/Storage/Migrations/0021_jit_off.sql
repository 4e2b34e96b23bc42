-- JIT compilation costs more than any of Commlog's short statements (a search under row-level security was seen
-- to spend 185 ms compiling). The programs ask for jit=off when they connect, but a pooler in transaction mode
-- (PgBouncer) drops that startup parameter: the database's own setting holds behind it too. A database the
-- owner role does not own keeps its setting (ask its owner: ALTER DATABASE … SET jit = off).
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'jit stays as it is: % is not owned by %', current_database(), current_user;
END
$$;
