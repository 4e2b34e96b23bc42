import CommlogRuntime
import Configuration
import IMAP

/// The email ingestor's own settings, on top of every program's `ProgramConfiguration`.
struct IngestorConfiguration: Sendable {
    /// Longest wait between two checks of a folder (`COMMLOG_MAIL_POLL_INTERVAL_S`, default 60, at most 60).
    var pollInterval: Duration = .seconds(60)
    /// Wait with IDLE where the server offers it (`COMMLOG_MAIL_IDLE`, default true).
    var useIdle = true
    /// Messages fetched, published and recorded as progress per step (`COMMLOG_MAIL_FETCH_BATCH`, default 100).
    var fetchBatch = 100
    /// Largest message imported whole; a larger one is logged from its headers (the broker would refuse it,
    /// and the folder would never move past it). Default 50 MiB.
    var maximumMessageBytes = 50 * 1024 * 1024
    /// How long a claim on a mailbox lasts without renewal (`COMMLOG_MAIL_LEASE_TTL_S`, default 30).
    var leaseTTL: Duration = .seconds(30)
    /// Longest wait before retrying a failed mailbox (`COMMLOG_MAIL_MAX_BACKOFF_S`, default 300).
    var maximumBackoff: Duration = .seconds(300)
    /// The consumer's prefetch and batch size (`COMMLOG_MAIL_PREFETCH`, 100; `COMMLOG_MAIL_BATCH_SIZE`, 50):
    /// smaller than other consumers', since each message carries a whole email with its attachments.
    var consumerPrefetch = 100
    var consumerBatchSize = 50
    /// Whether this replica polls mailboxes at all (`COMMLOG_MAIL_POLLER`, default true).
    var pollerEnabled = true
    /// The replica's name in leases.
    var instanceID = "email-ingestor"
    /// Who may vouch for the servers' certificates: the system's roots, and `COMMLOG_IMAP_CA_FILE`'s.
    var trust = IMAPTrust.system

    init() {}

    init(_ configuration: ProgramConfiguration) throws {
        let reader = configuration.reader
        let interval = try reader.positiveInt(.mailPollInterval)
        guard interval <= 60 else { throw ConfigurationError(key: .mailPollInterval, "must be at most 60 (mailboxes are checked every minute at least)") }
        pollInterval = .seconds(interval)
        useIdle = try reader.flag(.mailIdle)
        fetchBatch = try reader.positiveInt(.mailFetchBatch)
        maximumMessageBytes = try reader.positiveInt(.mailMaxMessageBytes)
        leaseTTL = .seconds(try reader.positiveInt(.mailLeaseTTL))
        maximumBackoff = .seconds(try reader.positiveInt(.mailMaxBackoff))
        pollerEnabled = try reader.flag(.mailPoller)
        consumerPrefetch = try reader.positiveInt(.mailPrefetch)
        consumerBatchSize = try reader.positiveInt(.mailBatchSize)
        instanceID = configuration.instanceID
        if let file = configuration.string(.imapCAFile) {
            do {
                trust = try IMAPTrust(addingPEMFile: file)
            } catch {
                throw ConfigurationError(key: .imapCAFile, "\(error)")
            }
        }
    }

    /// How long one wait (IDLE or sleep) lasts: short enough to renew the lease in time.
    var waitSlice: Duration { min(pollInterval, leaseTTL / 3) }
}
