-- Commlog schema v1.
--
-- Every tenant table carries organisation_id and is protected by row-level security keyed by the
-- per-transaction setting commlog.organisation_id (see commlog_current_organisation()). The services
-- connect as commlog_app, which is not the owner and so cannot bypass these policies. Identifiers of
-- the directory (organisations, locations, staff, clients, patients, connections) are the practice
-- software's own strings; communications get UUIDs. Entries refer to directory ids without foreign keys:
-- directory data may arrive after the events that mention it, and entries resolve as it fills in.

CREATE FUNCTION commlog_current_organisation() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('commlog.organisation_id', true), '') $$;

-- Directory ---------------------------------------------------------------------------------------

CREATE TABLE organisations (
    id              text PRIMARY KEY,
    name            text NOT NULL DEFAULT '',
    timezone        text NOT NULL DEFAULT 'UTC',
    logging_enabled boolean NOT NULL DEFAULT true,
    deleted_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE locations (
    organisation_id text NOT NULL,
    id              text NOT NULL,
    name            text NOT NULL DEFAULT '',
    -- NULL: follow the organisation's switch.
    logging_enabled boolean,
    deleted_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, id)
);

CREATE TABLE staff (
    organisation_id text NOT NULL,
    id              text NOT NULL,
    name            text NOT NULL DEFAULT '',
    email           text,
    roles           text[] NOT NULL DEFAULT '{staff}',
    extension       text,
    phones          text[] NOT NULL DEFAULT '{}',
    deleted_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, id),
    CHECK (roles <@ ARRAY['staff', 'manager', 'admin'])
);
CREATE INDEX staff_extension ON staff (organisation_id, extension) WHERE extension IS NOT NULL;

CREATE TABLE clients (
    organisation_id text NOT NULL,
    id              text NOT NULL,
    name            text NOT NULL DEFAULT '',
    emails          text[] NOT NULL DEFAULT '{}',
    phones          text[] NOT NULL DEFAULT '{}',
    deleted_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, id)
);

-- Care team: staff who may see a client's log.
CREATE TABLE related_staff (
    organisation_id text NOT NULL,
    client_id       text NOT NULL,
    staff_id        text NOT NULL,
    PRIMARY KEY (organisation_id, client_id, staff_id)
);
CREATE INDEX related_staff_by_staff ON related_staff (organisation_id, staff_id);

CREATE TABLE patients (
    organisation_id text NOT NULL,
    id              text NOT NULL,
    client_id       text,
    name            text NOT NULL DEFAULT '',
    deleted_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, id)
);
CREATE INDEX patients_by_client ON patients (organisation_id, client_id);

CREATE TABLE connections (
    organisation_id text NOT NULL,
    id              text NOT NULL,
    client_id       text,
    name            text NOT NULL DEFAULT '',
    relationship    text,
    emails          text[] NOT NULL DEFAULT '{}',
    phones          text[] NOT NULL DEFAULT '{}',
    deleted_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, id)
);
CREATE INDEX connections_by_client ON connections (organisation_id, client_id);

-- Addresses (lower-cased emails, E.164 phone numbers, extensions) of staff, clients and connections,
-- kept by the writers of the directory so that participants can be matched by address with one lookup.
CREATE TABLE contact_points (
    organisation_id text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('email', 'phone', 'extension')),
    value           text NOT NULL,
    owner_kind      text NOT NULL CHECK (owner_kind IN ('staff', 'client', 'connection')),
    owner_id        text NOT NULL,
    PRIMARY KEY (organisation_id, kind, value, owner_kind, owner_id)
);
CREATE INDEX contact_points_by_owner ON contact_points (organisation_id, owner_kind, owner_id);

-- Why a communication happened. Rows without an organisation are the standard reasons every organisation has.
CREATE TABLE reasons (
    organisation_id text,
    code            text NOT NULL,
    name            text NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    UNIQUE NULLS NOT DISTINCT (organisation_id, code)
);
INSERT INTO reasons (organisation_id, code, name) VALUES
    (NULL, 'AD_HOC_EMAIL', 'Ad-hoc email'),
    (NULL, 'AD_HOC_SMS', 'Ad-hoc SMS'),
    (NULL, 'PATIENT_REMINDER', 'Patient reminder'),
    (NULL, 'APPOINTMENT_REMINDER', 'Appointment reminder'),
    (NULL, 'FORWARDED_DOCUMENT', 'Forwarded document');

-- The log -----------------------------------------------------------------------------------------

CREATE TABLE communications (
    organisation_id         text NOT NULL,
    id                      uuid NOT NULL DEFAULT gen_random_uuid(),
    type                    text NOT NULL CHECK (type IN ('email', 'sms', 'phone', 'mail', 'note')),
    direction               text CHECK (direction IN ('inbound', 'outbound')),
    status                  text NOT NULL DEFAULT 'closed' CHECK (status IN ('open', 'closed')),
    occurred_at             timestamptz NOT NULL,
    answered_at             timestamptz,
    ended_at                timestamptz,
    closed_at               timestamptz,
    outcome                 text CHECK (outcome IN ('answered', 'missed', 'busy', 'failed')),
    duration_s              integer CHECK (duration_s >= 0),
    client_id               text,
    patient_id              text,
    location_id             text,
    author_staff_id         text,
    reason                  text,
    address                 text,
    subject                 text,
    description             text,
    notes                   text,
    -- The text content (email body, SMS text, letter); any length. Raw and HTML forms live in contents.
    content                 text,
    source                  text NOT NULL CHECK (source IN ('manual', 'mailbox', 'practice', 'phone')),
    -- Idempotency key within (organisation, source): event id, Message-ID, call id...
    source_ref              text NOT NULL,
    template                text,
    reminder_type           text,
    reminder_count          integer CHECK (reminder_count >= 0),
    show_in_patient_history boolean NOT NULL DEFAULT false,
    -- Set when participants could not be matched unambiguously (a number shared by two clients).
    ambiguous               boolean NOT NULL DEFAULT false,
    -- Bumped on every change; the ETag of the entry.
    version                 integer NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    deleted_at              timestamptz,
    deleted_by              text,
    search                  tsvector GENERATED ALWAYS AS (
        to_tsvector('simple',
            coalesce(subject, '') || ' ' || coalesce(description, '') || ' ' ||
            coalesce(notes, '') || ' ' || coalesce(left(content, 100000), ''))
    ) STORED,
    PRIMARY KEY (organisation_id, id),
    UNIQUE (organisation_id, source, source_ref),
    CHECK (type <> 'note' OR direction IS NULL),
    CHECK (status = 'closed' OR type = 'phone')
);
-- Timelines, newest first, keyset (occurred_at, id). Deleted entries never show in lists.
CREATE INDEX communications_board ON communications (organisation_id, occurred_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX communications_client ON communications (organisation_id, client_id, occurred_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX communications_patient ON communications (organisation_id, patient_id, occurred_at DESC, id DESC) WHERE deleted_at IS NULL AND patient_id IS NOT NULL;
CREATE INDEX communications_author ON communications (organisation_id, author_staff_id, occurred_at DESC, id DESC) WHERE deleted_at IS NULL AND author_staff_id IS NOT NULL;
CREATE INDEX communications_open_calls ON communications (organisation_id, occurred_at DESC) WHERE status = 'open';
CREATE INDEX communications_search ON communications USING gin (search);

CREATE TABLE participants (
    organisation_id  text NOT NULL,
    communication_id uuid NOT NULL,
    position         integer NOT NULL,
    role             text NOT NULL CHECK (role IN ('from', 'to', 'cc', 'bcc', 'caller', 'callee', 'handler', 'related')),
    kind             text NOT NULL CHECK (kind IN ('staff', 'client', 'connection', 'external')),
    -- The matched staff / client / connection id; NULL while unmatched (matched again as the directory learns).
    ref_id           text,
    address          text,
    name             text,
    -- Copied from the entry so that a staff member's timeline is one index range.
    occurred_at      timestamptz NOT NULL,
    PRIMARY KEY (organisation_id, communication_id, position),
    FOREIGN KEY (organisation_id, communication_id) REFERENCES communications ON DELETE CASCADE,
    CHECK (kind = 'external' OR ref_id IS NOT NULL OR address IS NOT NULL)
);
CREATE INDEX participants_by_ref ON participants (organisation_id, kind, ref_id, occurred_at DESC, communication_id) WHERE ref_id IS NOT NULL;
CREATE INDEX participants_unmatched ON participants (organisation_id, lower(address)) WHERE ref_id IS NULL AND address IS NOT NULL;

-- Raw and alternative forms of an entry's content: the raw RFC 5322 message, the HTML body.
CREATE TABLE contents (
    organisation_id  text NOT NULL,
    communication_id uuid NOT NULL,
    raw              bytea,
    html             text,
    PRIMARY KEY (organisation_id, communication_id),
    FOREIGN KEY (organisation_id, communication_id) REFERENCES communications ON DELETE CASCADE
);

CREATE TABLE attachments (
    organisation_id  text NOT NULL,
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    communication_id uuid NOT NULL,
    position         integer NOT NULL,
    name             text NOT NULL,
    content_type     text NOT NULL DEFAULT 'application/octet-stream',
    size             bigint NOT NULL CHECK (size >= 0),
    sha256           text,
    -- NULL when the event only named the attachment (the practice software keeps the document).
    content          bytea,
    document_owner   text CHECK (document_owner IN ('client', 'patient')),
    document_id      text,
    PRIMARY KEY (organisation_id, id),
    UNIQUE (organisation_id, communication_id, position),
    FOREIGN KEY (organisation_id, communication_id) REFERENCES communications ON DELETE CASCADE
);

CREATE TABLE recordings (
    organisation_id  text NOT NULL,
    communication_id uuid NOT NULL,
    url              text,
    content_type     text,
    size             bigint,
    sha256           text,
    content          bytea,
    fetched_at       timestamptz,
    PRIMARY KEY (organisation_id, communication_id),
    FOREIGN KEY (organisation_id, communication_id) REFERENCES communications ON DELETE CASCADE
);

-- Every change of an entry: who (NULL for the system), when, the state before and after.
CREATE TABLE audit_history (
    organisation_id  text NOT NULL,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    communication_id uuid NOT NULL,
    staff_id         text,
    action           text NOT NULL CHECK (action IN ('create', 'update', 'delete', 'end_call', 'auto_close')),
    at               timestamptz NOT NULL DEFAULT now(),
    before           jsonb,
    after            jsonb,
    PRIMARY KEY (organisation_id, id)
);
CREATE INDEX audit_history_by_entry ON audit_history (organisation_id, communication_id, id);

-- Reads of confidential content: email content, attachments, call recordings.
CREATE TABLE read_audit (
    organisation_id  text NOT NULL,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    staff_id         text NOT NULL,
    communication_id uuid NOT NULL,
    what             text NOT NULL CHECK (what IN ('content', 'attachment', 'recording')),
    object_id        text,
    at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, id)
);
CREATE INDEX read_audit_by_entry ON read_audit (organisation_id, communication_id, at);

-- Mailboxes ---------------------------------------------------------------------------------------

CREATE TABLE mailboxes (
    organisation_id   text NOT NULL,
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    address           text NOT NULL,
    host              text NOT NULL,
    port              integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    tls               text NOT NULL CHECK (tls IN ('none', 'starttls', 'implicit')),
    username          text NOT NULL,
    secret_kind       text NOT NULL DEFAULT 'password' CHECK (secret_kind IN ('password', 'xoauth2')),
    -- AES-GCM sealed box (nonce, ciphertext, tag) and the id of the key that sealed it.
    secret_ciphertext bytea NOT NULL,
    secret_key_id     text NOT NULL,
    since             date,
    enabled           boolean NOT NULL DEFAULT true,
    last_success_at   timestamptz,
    last_error        text,
    last_error_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, id),
    UNIQUE (organisation_id, address)
);

-- Import progress per folder.
CREATE TABLE mailbox_folders (
    organisation_id text NOT NULL,
    mailbox_id      uuid NOT NULL,
    name            text NOT NULL,
    direction       text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    uidvalidity     bigint,
    last_uid        bigint NOT NULL DEFAULT 0,
    highest_modseq  bigint,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, mailbox_id, name),
    FOREIGN KEY (organisation_id, mailbox_id) REFERENCES mailboxes ON DELETE CASCADE
);

-- Phone integrations -------------------------------------------------------------------------------

CREATE TABLE call_integrations (
    organisation_id text NOT NULL,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    -- SHA-256 of the webhook secret; the secret itself is shown once and never stored.
    secret_sha256   text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    PRIMARY KEY (organisation_id, id)
);

CREATE TABLE smdr_links (
    organisation_id text NOT NULL,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    host            text NOT NULL,
    port            integer NOT NULL DEFAULT 1752 CHECK (port BETWEEN 1 AND 65535),
    layout          jsonb NOT NULL DEFAULT '{}',
    enabled         boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, id)
);

-- Not tenant-scoped -------------------------------------------------------------------------------

-- Work that one replica at a time does (polling a mailbox, holding the SMDR connection).
CREATE TABLE leases (
    name       text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Messages that could never be processed, kept until replayed (and after, for the record).
-- organisation_id is what the message claimed, if it could be read at all.
CREATE TABLE dead_letters (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- SHA-256 of queue, routing key, message id and body: the same message dead-lettered again is one row.
    fingerprint      text NOT NULL UNIQUE,
    queue            text NOT NULL,
    routing_key      text NOT NULL,
    message_id       text,
    organisation_id  text,
    reason           text NOT NULL,
    content_type     text,
    headers          jsonb NOT NULL DEFAULT '{}',
    body             bytea NOT NULL,
    occurrences      integer NOT NULL DEFAULT 1,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    replayed_at      timestamptz,
    replay_count     integer NOT NULL DEFAULT 0
);
CREATE INDEX dead_letters_recent ON dead_letters (last_seen_at DESC);

-- Row-level security ------------------------------------------------------------------------------

ALTER TABLE organisations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON organisations
    USING (id = commlog_current_organisation())
    WITH CHECK (id = commlog_current_organisation());

ALTER TABLE reasons ENABLE ROW LEVEL SECURITY;
-- Everyone reads the standard reasons; an organisation changes only its own.
CREATE POLICY standard ON reasons FOR SELECT USING (organisation_id IS NULL);
CREATE POLICY tenant ON reasons
    USING (organisation_id = commlog_current_organisation())
    WITH CHECK (organisation_id = commlog_current_organisation());

DO $$
DECLARE
    tenant_table text;
BEGIN
    FOREACH tenant_table IN ARRAY ARRAY[
        'locations', 'staff', 'clients', 'related_staff', 'patients', 'connections', 'contact_points',
        'communications', 'participants', 'contents', 'attachments', 'recordings', 'audit_history',
        'read_audit', 'mailboxes', 'mailbox_folders', 'call_integrations', 'smdr_links'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', tenant_table);
        EXECUTE format(
            'CREATE POLICY tenant ON %I USING (organisation_id = commlog_current_organisation()) '
            'WITH CHECK (organisation_id = commlog_current_organisation())', tenant_table);
    END LOOP;
END
$$;

-- The application role ----------------------------------------------------------------------------

GRANT USAGE ON SCHEMA public TO commlog_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO commlog_app;
REVOKE ALL ON schema_migrations FROM commlog_app;
-- History and read audit are append-only for the services.
REVOKE UPDATE, DELETE ON audit_history, read_audit FROM commlog_app;
GRANT EXECUTE ON FUNCTION commlog_current_organisation() TO commlog_app;
-- Tables of later migrations get the same privileges.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO commlog_app;
