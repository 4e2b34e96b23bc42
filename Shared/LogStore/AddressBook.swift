import CommlogDomain
import Logging
import PostgresNIO

/// A staff member, a client or a connection of the directory: who owns an address, or whom an entry is related to.
public struct ContactOwner: Sendable, Hashable {
    public let kind: ParticipantKind
    public let id: String

    public init(kind: ParticipantKind, id: String) {
        self.kind = kind
        self.id = id
    }
}

/// Looks up the owners of addresses in `contact_points`, the directory's index of emails, phones and extensions.
public struct AddressBook: Sendable {
    public enum Kind: String, Sendable { case email, phone, `extension` }

    /// Owners by kind and normalised address; several owners when an address is shared (a family's number).
    private var owners: [Kind: [String: [ContactOwner]]] = [:]
    /// The client of each connection among the owners (a carer, a partner: mail with them is the client's).
    private var clientOfConnection: [String: String] = [:]

    /// Loads the owners of `emails`, `phones` and `extensions` (already normalised) for the transaction's organisation.
    public static func load(
        emails: Set<String> = [], phones: Set<String> = [], extensions: Set<String> = [],
        on connection: PostgresConnection, logger: Logger
    ) async throws -> AddressBook {
        var book = AddressBook()
        guard !(emails.isEmpty && phones.isEmpty && extensions.isEmpty) else { return book }
        let rows = try await connection.query("""
            SELECT kind, value, owner_kind, owner_id FROM contact_points
            WHERE organisation_id = commlog_current_organisation()
              AND ((kind = 'email' AND value = ANY(\(Array(emails))))
                OR (kind = 'phone' AND value = ANY(\(Array(phones))))
                OR (kind = 'extension' AND value = ANY(\(Array(extensions)))))
            ORDER BY owner_kind DESC, owner_id
            """, logger: logger)
        for try await (kind, value, ownerKind, ownerID) in rows.decode((String, String, String, String).self) {
            guard let kind = Kind(rawValue: kind), let ownerKind = ParticipantKind(rawValue: ownerKind) else { continue }
            book.owners[kind, default: [:]][value, default: []].append(ContactOwner(kind: ownerKind, id: ownerID))
        }
        let connections = Set(book.owners.values.flatMap(\.values).joined().filter { $0.kind == .connection }.map(\.id))
        if !connections.isEmpty {
            for try await (connectionID, client) in try await connection.query("""
                SELECT id, client_id FROM connections
                WHERE organisation_id = commlog_current_organisation() AND id = ANY(\(Array(connections))) AND client_id IS NOT NULL
                """, logger: logger).decode((String, String).self) {
                book.clientOfConnection[connectionID] = client
            }
        }
        return book
    }

    /// The client a participant stands for: itself when it is a client, the client of a connection (mail from or to
    /// a client's carer is the client's), nil otherwise.
    public func client(of participant: Participant) -> String? {
        switch participant.kind {
        case .client: participant.id
        case .connection: participant.id.flatMap { clientOfConnection[$0] }
        default: nil
        }
    }

    /// The owners of an address, clients first, then connections, then staff.
    public func owners(of address: String, kind: Kind) -> [ContactOwner] {
        owners[kind]?[address] ?? []
    }

    /// A participant for `raw` in `role`: matched to its owner (preferring `preferredClient` when it is one of
    /// several), or external with the address as it appeared.
    public func participant(_ role: ParticipantRole, address raw: String, kind: Kind, name: String? = nil, preferredClient: String? = nil) -> Participant {
        let normalised = kind == .email ? ContactAddress.email(raw) : ContactAddress.phone(raw)
        guard let normalised else { return .external(role, address: raw, name: name) }
        let candidates = owners(of: normalised, kind: kind)
        let owner = candidates.first { $0.kind == .client && $0.id == preferredClient } ?? candidates.first
        guard let owner else { return .external(role, address: normalised, name: name) }
        return Participant(role: role, kind: owner.kind, id: owner.id, address: normalised, name: name)
    }
}
