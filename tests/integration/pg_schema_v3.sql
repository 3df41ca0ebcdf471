-- The PostgreSQL schema of signetd's records at version 3, as signetd
-- created it before version 4 (the shared CA store): the starting point of
-- tests/integration/pg_migrate.sh. Written from daemon/records/schema.c's
-- pg_migrations[0..2], statement for statement; never edit it to follow a
-- later version.
BEGIN;
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE issued ( id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ca TEXT NOT NULL, issuer_key TEXT NOT NULL, serial TEXT NOT NULL, subject TEXT NOT NULL, sans TEXT NOT NULL, profile TEXT NOT NULL, spki_sha256 BYTEA NOT NULL CHECK (length(spki_sha256) = 32), not_before BIGINT NOT NULL, not_after BIGINT NOT NULL, caller TEXT NOT NULL, request_id BYTEA CHECK (request_id IS NULL OR length(request_id) = 16), issued_at BIGINT NOT NULL, der BYTEA NOT NULL, revoked_at BIGINT, reason INTEGER, invalidity_date BIGINT, UNIQUE (ca, serial));
CREATE UNIQUE INDEX issued_request ON issued (caller, request_id) WHERE request_id IS NOT NULL;
CREATE INDEX issued_serial ON issued (serial);
CREATE INDEX issued_spki ON issued (spki_sha256);
CREATE INDEX issued_ca ON issued (ca, id);
CREATE INDEX issued_revoked ON issued (issuer_key, not_after) WHERE revoked_at IS NOT NULL;
CREATE TABLE crl_numbers ( issuer_key TEXT PRIMARY KEY, number BIGINT NOT NULL);
CREATE TABLE ca_events ( id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ca TEXT NOT NULL, event TEXT NOT NULL CHECK (event IN ('create', 'renew', 'rekey', 'import')), key_label TEXT NOT NULL, serial TEXT NOT NULL, der BYTEA NOT NULL, at BIGINT NOT NULL);
CREATE INDEX ca_events_ca ON ca_events (ca, id);
CREATE TABLE challenges ( id_key BYTEA PRIMARY KEY CHECK (length(id_key) = 32), caller TEXT NOT NULL, device_id TEXT NOT NULL, spki_sha256 BYTEA CHECK (spki_sha256 IS NULL OR length(spki_sha256) = 32), nonce BYTEA, created BIGINT NOT NULL, expires BIGINT NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE INDEX challenges_caller ON challenges (caller, used, expires);
CREATE INDEX challenges_expires ON challenges (expires);
CREATE TABLE challenge_count (n BIGINT NOT NULL);
INSERT INTO challenge_count VALUES (0);
CREATE FUNCTION challenge_count_track() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN  IF TG_OP = 'INSERT' THEN UPDATE challenge_count SET n = n + 1;  ELSE UPDATE challenge_count SET n = n - 1; END IF;  RETURN NULL; END $$;
CREATE TRIGGER challenges_counted AFTER INSERT OR DELETE ON challenges FOR EACH ROW EXECUTE FUNCTION challenge_count_track();
ALTER TABLE issued ADD COLUMN trail TEXT;
CREATE INDEX issued_trail ON issued (trail, id) WHERE trail IS NOT NULL;
CREATE TABLE audit_reconciled ( trail TEXT PRIMARY KEY, ledger_id BIGINT NOT NULL, audit_offset BIGINT NOT NULL, audit_hash TEXT NOT NULL);
INSERT INTO schema_version VALUES (3);
COMMIT;
