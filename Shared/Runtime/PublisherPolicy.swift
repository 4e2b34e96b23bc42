import Foundation

/// Which broker users may publish events for which organisations (`COMMLOG_AMQP_PUBLISHERS`).
///
/// An envelope's `organisation_id` is whatever its publisher wrote; RabbitMQ validates only the message's
/// `user_id` (it must be the publishing connection's user). With a policy, a consumer accepts an event only
/// from a user the policy names, for an organisation that user serves; without one, from anyone with access
/// to the broker (the default, for a broker only Commlog and one practice system use).
public struct PublisherPolicy: Sendable, Equatable {
    /// Each user with the organisations it may publish for; nil: any organisation (`*`).
    public let users: [String: Set<String>?]?

    /// No policy: every publisher is trusted.
    public static let open = PublisherPolicy(users: nil)

    public init(users: [String: Set<String>?]?) {
        self.users = users
    }

    /// Reads `user=org-1|org-2, other-user=*`.
    public init(parsing text: String) throws(ConfigurationError) {
        var users: [String: Set<String>?] = [:]
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ConfigurationError(key: .amqpPublishers, "each entry is user=organisation|organisation or user=* (got \(entry))")
            }
            let organisations = Set(parts[1].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            guard !organisations.isEmpty else { throw ConfigurationError(key: .amqpPublishers, "user \(parts[0]) serves no organisation (\(entry))") }
            users[parts[0]] = organisations.contains("*") ? .some(nil) : .some(organisations)
        }
        guard !users.isEmpty else { throw ConfigurationError(key: .amqpPublishers, "lists no publisher") }
        self.users = users
    }

    /// Why a message published by broker user `userID` (its `user_id`) may not speak for `organisation`; nil when it may.
    public func refusal(userID: String?, for organisation: String) -> String? {
        guard let users else { return nil }
        guard let user = userID else {
            return "publisher: the message has no user_id, and COMMLOG_AMQP_PUBLISHERS names who may publish"
        }
        guard let organisations = users[user] else { return "publisher: broker user \(user) may not publish events (COMMLOG_AMQP_PUBLISHERS)" }
        if let organisations, !organisations.contains(organisation) {
            return "publisher: broker user \(user) may not publish for organisation \"\(organisation)\" (COMMLOG_AMQP_PUBLISHERS)"
        }
        return nil
    }
}
