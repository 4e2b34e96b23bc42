import Foundation

/// Every configuration key a user can set, in one place: the README's table is this list.
///
/// Programs read them from environment variables (`COMMLOG_AMQP_URL`); in code they are dotted keys
/// (`commlog.amqp.url`), which is how swift-configuration maps them.
public struct ConfigurationKey: Sendable, Hashable {
    /// The environment variable, e.g. `COMMLOG_AMQP_URL`.
    public let environmentName: String
    /// The default, as text; nil when the key must be set (or is optional and off by default).
    public let defaultValue: String?
    /// Which programs read it.
    public let programs: String
    public let summary: String
    public let isSecret: Bool

    /// Where a secret may be read from instead: `COMMLOG_JWT_SECRET_FILE` names a file holding `COMMLOG_JWT_SECRET`.
    public var fileVariant: String { environmentName + "_FILE" }

    /// The dotted key swift-configuration looks up: `COMMLOG_AMQP_URL` → `commlog.amqp.url`.
    public var dotted: String { environmentName.lowercased().replacingOccurrences(of: "_", with: ".") }

    init(_ environmentName: String, default defaultValue: String?, programs: String = "all", secret: Bool = false, _ summary: String) {
        self.environmentName = environmentName
        self.defaultValue = defaultValue
        self.programs = programs
        self.isSecret = secret
        self.summary = summary
    }
}

extension ConfigurationKey {
    public static let amqpURL = ConfigurationKey("COMMLOG_AMQP_URL", default: "amqp://guest:guest@127.0.0.1:5672/%2F", secret: true,
        "RabbitMQ: `amqp://user:password@host:port/vhost` (`amqps://` for TLS); a cluster as a comma-separated list of its nodes (`amqp://u:p@rabbit-1/commlog,rabbit-2,rabbit-3:5673`), tried in turn")
    public static let amqpHeartbeat = ConfigurationKey("COMMLOG_AMQP_HEARTBEAT_S", default: "30",
        "AMQP heartbeat in seconds; a dead broker is noticed after about twice this")
    public static let amqpPublishers = ConfigurationKey("COMMLOG_AMQP_PUBLISHERS", default: nil, programs: "consumers",
        "Broker users whose events are accepted, each with the organisations it may publish for: `practice-a=org-1|org-2,commlog=*` (RabbitMQ validates a message's user_id); unset: any user with access to the broker")
    public static let databaseURL = ConfigurationKey("COMMLOG_DATABASE_URL", default: "postgres://commlog_app@127.0.0.1:5432/commlog", secret: true,
        "PostgreSQL for the application role (not the owner: row-level security applies); `?sslmode=disable|prefer|require`, by default disable on loopback and require (verified certificate) elsewhere")
    public static let databaseOwnerURL = ConfigurationKey("COMMLOG_DATABASE_OWNER_URL", default: nil, programs: "commlog migrate, any with COMMLOG_MIGRATE_ON_START", secret: true,
        "PostgreSQL for the owner role that applies migrations")
    public static let databaseReadURL = ConfigurationKey("COMMLOG_DATABASE_READ_URL", default: nil, programs: "query-api", secret: true,
        "A streaming replica of the database (application role) for reads: a staff member's read goes there once it has replayed their own last write, otherwise to the primary, as every write does; unset: the primary only")
    public static let databasePoolSize = ConfigurationKey("COMMLOG_DATABASE_POOL_SIZE", default: "20",
        "Most PostgreSQL connections per process")
    public static let migrateOnStart = ConfigurationKey("COMMLOG_MIGRATE_ON_START", default: "false",
        "Apply migrations (with COMMLOG_DATABASE_OWNER_URL) before starting; safe with several replicas")
    public static let httpHost = ConfigurationKey("COMMLOG_HTTP_HOST", default: "127.0.0.1",
        "Address the HTTP listener binds (health, metrics, and the program's API); `0.0.0.0` in containers")
    public static let httpPort = ConfigurationKey("COMMLOG_HTTP_PORT", default: "8080 query-api, 8081 call-bridge, 8082 reminder-logger, 8083 email-ingestor",
        "Port of the program's HTTP listener")
    public static let httpIdleTimeout = ConfigurationKey("COMMLOG_HTTP_IDLE_TIMEOUT_S", default: "30",
        "Seconds a client may send nothing, in the middle of a request or between requests, before its connection is closed (live streams are not affected)")
    public static let logLevel = ConfigurationKey("COMMLOG_LOG_LEVEL", default: "info",
        "trace, debug, info, notice, warning, error or critical")
    public static let logFormat = ConfigurationKey("COMMLOG_LOG_FORMAT", default: "text",
        "`text` (lines for people) or `json` (one JSON object per line on standard error: time, level, logger, message and the metadata)")
    public static let batchSize = ConfigurationKey("COMMLOG_BATCH_SIZE", default: "500", programs: "consumers",
        "Most messages committed in one transaction")
    public static let batchWait = ConfigurationKey("COMMLOG_BATCH_WAIT_MS", default: "20", programs: "consumers",
        "Longest wait for a batch to fill once its first message is there")
    public static let batchTimeout = ConfigurationKey("COMMLOG_BATCH_TIMEOUT_S", default: "20", programs: "consumers",
        "Longest one attempt at a batch may take; then it is abandoned and the batch tried again (a database client that lost track of a request after a PostgreSQL restart once held a batch for ever). email-ingestor takes at least 120, call-bridge's recordings at least their download attempts and timeouts")
    public static let prefetch = ConfigurationKey("COMMLOG_PREFETCH", default: "2000", programs: "consumers",
        "Unacknowledged messages the broker sends ahead to each consumer")
    public static let consumerConcurrency = ConfigurationKey("COMMLOG_CONSUMER_CONCURRENCY", default: "4 reminder-logger, 2 email-ingestor, 1 the others", programs: "consumers",
        "Batches each consumer processes at the same time, each in its own transaction (reminder-logger's batches with directory changes still run alone, in order; a mail batch that shares a Message-ID with one in flight waits for it; call events keep delivery order with 1)")
    public static let deliveryLimit = ConfigurationKey("COMMLOG_DELIVERY_LIMIT", default: "5", programs: "consumers",
        "Deliveries of one message after which its consumer dead-letters it (the program stopped while processing it each time); the broker's own limit is the `commlog-consumers` policy's `delivery-limit` (deploy/rabbitmq/definitions.json)")
    public static let unknownOrganisationWait = ConfigurationKey("COMMLOG_UNKNOWN_ORGANISATION_WAIT_S", default: "60", programs: "reminder-logger, call-bridge",
        "How long an event of an organisation the directory does not know yet is tried again (its upsert may be committing through another batch or replica) before it is dead-lettered")
    public static let instanceID = ConfigurationKey("COMMLOG_INSTANCE_ID", default: "host name and process id",
        "Name of this replica in leases and logs")
    public static let jwtSecret = ConfigurationKey("COMMLOG_JWT_SECRET", default: nil, programs: "query-api, commlog token", secret: true,
        "HS256 secret for staff tokens (at least 32 bytes)")
    public static let jwtPublicKeysFile = ConfigurationKey("COMMLOG_JWT_PUBLIC_KEYS_FILE", default: nil, programs: "query-api",
        "PEM file of public keys whose RS256 (RSA, 2048 bits or more) or ES256 (P-256) tokens are accepted, besides or instead of HS256")
    public static let jwtIssuers = ConfigurationKey("COMMLOG_JWT_ISSUERS", default: nil, programs: "query-api, commlog token",
        "Comma-separated issuers (`iss`) whose tokens are accepted; `issuer=org-1|org-2` lets that issuer sign only for those organisations. Unset: `iss` is not checked (commlog token writes the first)")
    public static let jwtAudience = ConfigurationKey("COMMLOG_JWT_AUDIENCE", default: nil, programs: "query-api, commlog token",
        "Audience (`aud`) every token must name; unset: not checked (commlog token writes it)")
    public static let jwtMaxLifetime = ConfigurationKey("COMMLOG_JWT_MAX_LIFETIME_S", default: "86400", programs: "query-api",
        "Longest a token may be valid for: its `exp` no further than this from now (and from its `iat`)")
    public static let liveHeartbeat = ConfigurationKey("COMMLOG_LIVE_HEARTBEAT_S", default: "15", programs: "query-api",
        "Seconds between keep-alive comments on `GET /v1/live` streams")
    public static let uiFrameAncestors = ConfigurationKey("COMMLOG_UI_FRAME_ANCESTORS", default: nil, programs: "query-api",
        "Space-separated origins that may show the web page in a frame (`https://pms.example.org`: CSP frame-ancestors; over HTTPS the session cookie is then SameSite=None); unset: the page cannot be framed")
    public static let secretKey = ConfigurationKey("COMMLOG_SECRET_KEY", default: nil, programs: "email-ingestor, call-bridge, commlog mailbox, commlog call-integration", secret: true,
        "Base64 of 32 bytes: the AES-GCM key that seals mailbox secrets and Twilio auth tokens")
    public static let secretKeyPrevious = ConfigurationKey("COMMLOG_SECRET_KEY_PREVIOUS", default: nil, programs: "email-ingestor, commlog mailbox", secret: true,
        "Comma-separated base64 keys being rotated out: they still open secrets sealed with them")
    public static let mailPollInterval = ConfigurationKey("COMMLOG_MAIL_POLL_INTERVAL_S", default: "60", programs: "email-ingestor",
        "Longest wait between two checks of a folder (the safety net under IDLE); at most 60")
    public static let mailIdle = ConfigurationKey("COMMLOG_MAIL_IDLE", default: "true", programs: "email-ingestor",
        "Wait with IMAP IDLE where the server offers it (false: poll only)")
    public static let mailMaxMessageBytes = ConfigurationKey("COMMLOG_MAIL_MAX_MESSAGE_BYTES", default: "52428800", programs: "email-ingestor",
        "Largest message imported whole (keep it under the broker's max_message_size); a larger one is logged from its headers, with a note that its body was not imported")
    public static let mailFetchBatch = ConfigurationKey("COMMLOG_MAIL_FETCH_BATCH", default: "100", programs: "email-ingestor",
        "Messages fetched, published and committed as progress per step of a sync")
    public static let mailLeaseTTL = ConfigurationKey("COMMLOG_MAIL_LEASE_TTL_S", default: "30", programs: "email-ingestor",
        "How long a replica's claim on a mailbox lasts without renewal; a dead replica's mailboxes move after this")
    public static let mailMaxBackoff = ConfigurationKey("COMMLOG_MAIL_MAX_BACKOFF_S", default: "300", programs: "email-ingestor",
        "Longest wait before retrying a mailbox that failed (wrong password, unreachable server)")
    public static let mailPrefetch = ConfigurationKey("COMMLOG_MAIL_PREFETCH", default: "100", programs: "email-ingestor",
        "Fetched messages the broker sends ahead to the ingestor's consumer (instead of COMMLOG_PREFETCH: raw messages are large)")
    public static let mailBatchSize = ConfigurationKey("COMMLOG_MAIL_BATCH_SIZE", default: "50", programs: "email-ingestor",
        "Most fetched messages committed in one transaction (instead of COMMLOG_BATCH_SIZE)")
    public static let mailPoller = ConfigurationKey("COMMLOG_MAIL_POLLER", default: "true", programs: "email-ingestor",
        "Run the mailbox poller in this replica (false: only parse and log fetched messages)")
    public static let imapCAFile = ConfigurationKey("COMMLOG_IMAP_CA_FILE", default: nil, programs: "email-ingestor",
        "A PEM file of certificate authorities trusted for IMAP servers besides the system's (a practice's private CA)")
    public static let queryAPIURL = ConfigurationKey("COMMLOG_QUERY_API_URL", default: "http://127.0.0.1:8080", programs: "commlog launch-url, scripts, tests",
        "Where the query API (and the web page) answers (written by make run; the base of `commlog launch-url` links)")
    public static let callBridgeURL = ConfigurationKey("COMMLOG_CALL_BRIDGE_URL", default: "http://127.0.0.1:8081", programs: "scripts, tests",
        "Where the call bridge answers (written by make run)")
    public static let binFolder = ConfigurationKey("COMMLOG_BIN", default: nil, programs: "scripts, tests",
        "The folder holding the built programs (written by make run)")

    public static let phoneRegion = ConfigurationKey("COMMLOG_PHONE_REGION", default: nil, programs: "call-bridge, reminder-logger, query-api",
        "ISO 3166 region (e.g. `AU`) national phone numbers are read in, to store, match and look them up in E.164; unset: only international numbers are read as E.164")
    public static let phoneMatchDigits = ConfigurationKey("COMMLOG_PHONE_MATCH_DIGITS", default: "9", programs: "call-bridge",
        "Trailing digits that must agree when a number matches no directory number in E.164")
    public static let callAutoClose = ConfigurationKey("COMMLOG_CALL_AUTO_CLOSE_MIN", default: nil, programs: "call-bridge",
        "Close calls still open this many minutes after they started (audited as the system's auto_close); unset: never")
    public static let recordingMaxBytes = ConfigurationKey("COMMLOG_RECORDING_MAX_BYTES", default: "104857600", programs: "call-bridge",
        "Largest call recording downloaded; a larger one is dead-lettered")
    public static let recordingTimeout = ConfigurationKey("COMMLOG_RECORDING_TIMEOUT_S", default: "60", programs: "call-bridge",
        "Time allowed for one recording download attempt")
    public static let recordingAttempts = ConfigurationKey("COMMLOG_RECORDING_ATTEMPTS", default: "3", programs: "call-bridge",
        "Download attempts of a recording before its event is dead-lettered")
    public static let recordingConcurrency = ConfigurationKey("COMMLOG_RECORDING_CONCURRENCY", default: "4", programs: "call-bridge",
        "Recordings downloaded at the same time, apart from the call consumer")
    public static let recordingHosts = ConfigurationKey("COMMLOG_RECORDING_HOSTS", default: nil, programs: "call-bridge",
        "Comma-separated hosts recordings may be downloaded from (`api.twilio.com`, `.example.org` for a domain and its subdomains); unset: any host whose addresses are all public. A host named exactly may also resolve to private or loopback addresses")
    public static let twilioWebhookBaseURL = ConfigurationKey("COMMLOG_TWILIO_WEBHOOK_BASE_URL", default: nil, programs: "call-bridge",
        "The scheme and host Twilio is configured to call (`https://call-bridge.example.org`), for X-Twilio-Signature; unset: the request's Host and X-Forwarded-Proto")
    public static let smdrEnabled = ConfigurationKey("COMMLOG_SMDR_ENABLED", default: "true", programs: "call-bridge",
        "Whether this replica competes for the SMDR links (`commlog smdr add`)")
    public static let smdrLease = ConfigurationKey("COMMLOG_SMDR_LEASE_S", default: "30", programs: "call-bridge",
        "Lease of an SMDR link: another replica takes the link over this long after its holder went away")
    public static let smdrReconnect = ConfigurationKey("COMMLOG_SMDR_RECONNECT_S", default: "5", programs: "call-bridge",
        "Wait before connecting to a PBX again after it closed or refused the connection")

    /// All keys, in the order the README lists them.
    public static let all: [ConfigurationKey] = [
        amqpURL, amqpHeartbeat, amqpPublishers, databaseURL, databaseOwnerURL, databaseReadURL, databasePoolSize, migrateOnStart,
        httpHost, httpPort, httpIdleTimeout, logLevel, logFormat, batchSize, batchWait, batchTimeout, prefetch, consumerConcurrency, deliveryLimit, unknownOrganisationWait, instanceID,
        jwtSecret, jwtPublicKeysFile, jwtIssuers, jwtAudience, jwtMaxLifetime, liveHeartbeat, uiFrameAncestors, secretKey, secretKeyPrevious, queryAPIURL, callBridgeURL, binFolder,
        phoneRegion, phoneMatchDigits, callAutoClose, recordingMaxBytes, recordingTimeout, recordingAttempts, recordingConcurrency, recordingHosts, twilioWebhookBaseURL,
        smdrEnabled, smdrLease, smdrReconnect,
        mailPollInterval, mailIdle, mailFetchBatch, mailMaxMessageBytes, mailLeaseTTL, mailMaxBackoff, mailPrefetch, mailBatchSize, mailPoller, imapCAFile,
    ]
}
