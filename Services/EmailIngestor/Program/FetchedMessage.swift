import CommlogDomain
import Foundation
import Messaging

/// `mail.message.fetched`: the raw RFC 5322 message as the body, what the poller knows in headers.
struct FetchedMessage: Sendable {
    static let routingKey = "mail.message.fetched"

    enum Header {
        // As docs/asyncapi.json (MailMessageFetchedHeaders) names them.
        static let organisation = "x-organisation-id"
        static let mailbox = "x-mailbox-id"
        static let mailboxAddress = "x-mailbox-address"
        static let folder = "x-folder"
        static let direction = "x-direction"
        static let uidValidity = "x-uidvalidity"
        static let uid = "x-uid"
        static let internalDate = "x-internal-date"
        static let omittedBytes = "x-body-omitted-bytes"
        static let mailboxAliases = "x-mailbox-aliases"
    }

    let organisationID: String
    let mailboxID: UUID
    let mailboxAddress: String
    let folder: String
    let direction: Direction
    let uidValidity: UInt32
    let uid: UInt32
    let internalDate: Date?
    let raw: [UInt8]
    /// The mailbox's aliases (mail from them is outbound, like mail from `mailboxAddress`).
    var mailboxAliases: [String] = []
    /// Set when the message was too large to import: its size, `raw` holding its header section only.
    var omittedBytes: Int? = nil

    /// Persistent and mandatory; `message_id` names the message in its folder, so a redelivery is recognisable.
    var outgoing: OutgoingMessage {
        var headers: AMQPTable = [
            Header.organisation: .string(organisationID),
            Header.mailbox: .string(mailboxID.uuidString.lowercased()),
            Header.mailboxAddress: .string(mailboxAddress),
            Header.folder: .string(folder),
            Header.direction: .string(direction.rawValue),
            Header.uidValidity: .int(Int64(uidValidity)),
            Header.uid: .int(Int64(uid)),
        ]
        if let internalDate { headers[Header.internalDate] = .timestamp(UInt64(max(0, internalDate.timeIntervalSince1970))) }
        if let omittedBytes { headers[Header.omittedBytes] = .int(Int64(omittedBytes)) }
        if !mailboxAliases.isEmpty { headers[Header.mailboxAliases] = .string(mailboxAliases.joined(separator: ",")) }
        return OutgoingMessage(
            exchange: Topology.eventsExchange,
            routingKey: Self.routingKey,
            body: raw,
            contentType: "message/rfc822",
            messageID: "\(mailboxID.uuidString.lowercased())/\(folder)/\(uidValidity)/\(uid)",
            headers: headers,
            timestamp: UInt64(Date().timeIntervalSince1970)
        )
    }
}

extension FetchedMessage {
    /// Reads a delivery back; throws (a permanent error: dead-lettered) when a header is missing.
    init(_ delivery: AMQPDelivery) throws {
        let headers = delivery.properties.headers
        func string(_ name: String) throws -> String {
            guard let value = headers[name]?.stringValue, !value.isEmpty else { throw FetchedMessageError("header \(name) is missing") }
            return value
        }
        organisationID = try string(Header.organisation)
        guard let mailbox = UUID(uuidString: try string(Header.mailbox)) else { throw FetchedMessageError("header \(Header.mailbox) is not a UUID") }
        mailboxID = mailbox
        mailboxAddress = (try? string(Header.mailboxAddress)) ?? ""
        folder = (try? string(Header.folder)) ?? ""
        guard let direction = Direction(rawValue: try string(Header.direction)) else {
            throw FetchedMessageError("header \(Header.direction) must be inbound or outbound")
        }
        self.direction = direction
        uidValidity = UInt32(truncatingIfNeeded: headers[Header.uidValidity]?.intValue ?? 0)
        uid = UInt32(truncatingIfNeeded: headers[Header.uid]?.intValue ?? 0)
        internalDate = headers[Header.internalDate]?.intValue.map { Date(timeIntervalSince1970: TimeInterval($0)) }
        raw = delivery.body
        omittedBytes = headers[Header.omittedBytes]?.intValue.map { Int($0) }
        mailboxAliases = (headers[Header.mailboxAliases]?.stringValue ?? "").split(separator: ",").map(String.init)
    }
}

struct FetchedMessageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = "mail.message.fetched: \(description)" }
}
