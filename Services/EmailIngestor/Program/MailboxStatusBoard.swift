import Foundation
import Integrations
import Metrics
import Synchronization

/// Per-mailbox status for the metrics: up or failing, last success, and lag (seconds since the last
/// complete check), refreshed by the poller every few seconds so that a stuck mailbox shows a growing lag.
final class MailboxStatusBoard: Sendable {
    private let lastSuccess = Mutex<[String: Date]>([:])

    func succeeded(_ mailbox: Mailbox) {
        let now = Date()
        lastSuccess.withLock { $0[mailbox.label] = now }
        Gauge(label: "commlog_mailbox_up", dimensions: [("mailbox", mailbox.label)]).record(1)
        Gauge(label: "commlog_mailbox_last_success_timestamp_seconds", dimensions: [("mailbox", mailbox.label)]).record(now.timeIntervalSince1970)
    }

    func failed(_ mailbox: Mailbox, kind: String) {
        Gauge(label: "commlog_mailbox_up", dimensions: [("mailbox", mailbox.label)]).record(0)
        Counter(label: "commlog_mailbox_errors_total", dimensions: [("mailbox", mailbox.label), ("kind", kind)]).increment()
    }

    /// Records every known mailbox's lag now.
    func refreshLag() {
        let now = Date()
        for (label, success) in lastSuccess.withLock({ $0 }) {
            Gauge(label: "commlog_mailbox_lag_seconds", dimensions: [("mailbox", label)]).record(now.timeIntervalSince(success))
        }
    }
}
