import CommlogRuntime
import Foundation

/// The call bridge's own settings (see `ConfigurationKey` and docs/call-bridge.md).
struct CallBridgeConfiguration: Sendable {
    /// Region national numbers are read in; nil when `COMMLOG_PHONE_REGION` is unset.
    var region: String?
    var matchDigits = 9
    /// Minutes after which open calls are closed by the system; nil: never (the default).
    var autoCloseMinutes: Int?
    var recordings = RecordingFetcher.Configuration()
    /// Recordings downloaded at the same time (default 4).
    var recordingConcurrency = 4
    /// Opens Twilio auth tokens (`COMMLOG_SECRET_KEY`); nil when no key is configured.
    var sealer: SecretSealer?
    /// `COMMLOG_TWILIO_WEBHOOK_BASE_URL`.
    var twilioBaseURL: String?
    var smdrEnabled = true
    var smdrLease: Duration = .seconds(30)
    var smdrReconnect: Duration = .seconds(5)

    init(_ configuration: ProgramConfiguration) throws {
        region = try configuration.phoneRegion()
        matchDigits = try configuration.positiveInt(.phoneMatchDigits)
        autoCloseMinutes = try configuration.optionalPositiveInt(.callAutoClose)
        recordings.maximumBytes = try configuration.positiveInt(.recordingMaxBytes)
        recordings.timeout = .seconds(try configuration.positiveInt(.recordingTimeout))
        recordings.attempts = try configuration.positiveInt(.recordingAttempts)
        recordingConcurrency = try configuration.positiveInt(.recordingConcurrency)
        if let hosts = configuration.string(.recordingHosts), !hosts.trimmingCharacters(in: .whitespaces).isEmpty {
            recordings.sources.allowedHosts = hosts.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        }
        if configuration.string(.secretKey) != nil {
            sealer = try configuration.secretSealer()
        }
        twilioBaseURL = configuration.string(.twilioWebhookBaseURL)
        smdrEnabled = try configuration.flag(.smdrEnabled)
        smdrLease = .seconds(try configuration.positiveInt(.smdrLease))
        smdrReconnect = .seconds(try configuration.positiveInt(.smdrReconnect))
    }
}
