import CommlogDomain
import LogStore
import Logging
import PhoneNumbers
import PostgresNIO

/// The parties of a call as matched against the directory.
struct CallParties: Equatable, Sendable {
    var participants: [Participant] = []
    /// The client of the entry: the first matched client (or the client of the first matched connection).
    var clientID: String?
    /// More than one client or connection owns the external number: all are linked, none is sure.
    var ambiguous = false
    /// The external number, normalised, as the entry's address.
    var address: String?
    /// Staff handling the call, for live updates.
    var staffIDs: [String] { participants.filter { $0.kind == .staff && $0.role == .handler }.compactMap(\.id) }
}

/// Matches a call's external number to clients and connections, and its extensions to staff.
///
/// Numbers are compared in E.164 (libphonenumber, national numbers read in the configured region); when
/// nothing matches that way, the last digits decide (a directory number stored without country code).
struct PartyMatcher: Sendable {
    /// ISO 3166 region national numbers are read in, e.g. "AU"; nil reads only international numbers.
    var region: String?
    /// How many trailing digits must agree in the fallback match.
    var trailingDigits: Int

    func match(_ facts: CallFacts, on connection: PostgresConnection, logger: Logger) async throws -> CallParties {
        var parties = CallParties()
        let externalRole: ParticipantRole = facts.direction == .outbound ? .callee : .caller
        let practiceRole: ParticipantRole = facts.direction == .outbound ? .caller : .callee
        let practiceNumber = facts.direction == .outbound ? facts.from : facts.to

        if let external = facts.externalNumber {
            let normalised = ContactAddress.phone(external, region: region) ?? external
            parties.address = normalised
            let owners = try await owners(of: external, normalised: normalised, on: connection, logger: logger)
            if owners.isEmpty {
                parties.participants.append(.external(externalRole, address: normalised))
            } else {
                for owner in owners {
                    parties.participants.append(Participant(role: externalRole, kind: owner.kind, id: owner.id, address: normalised))
                }
                parties.ambiguous = owners.count > 1
                if let client = owners.first(where: { $0.kind == .client }) {
                    parties.clientID = client.id
                } else if let connectionOwner = owners.first {
                    parties.clientID = try await clientOf(connection: connectionOwner.id, on: connection, logger: logger)
                }
            }
        }
        if let practiceNumber {
            parties.participants.append(.external(practiceRole, address: ContactAddress.phone(practiceNumber, region: region) ?? practiceNumber))
        }
        let staff = try await staffByExtension(facts.extensions, on: connection, logger: logger)
        for phoneExtension in facts.extensions {
            if let staffID = staff[phoneExtension] {
                parties.participants.append(Participant(role: .handler, kind: .staff, id: staffID, address: phoneExtension))
            } else {
                parties.participants.append(.external(.handler, address: phoneExtension))
            }
        }
        return parties
    }

    /// Clients and connections owning the number, clients first; exact (E.164 or as written) before trailing digits.
    private func owners(of raw: String, normalised: String, on connection: PostgresConnection, logger: Logger) async throws -> [ContactOwner] {
        let digits = PhoneNumber.digits(normalised)
        let candidates = Array(Set([normalised, ContactAddress.phone(raw) ?? normalised, digits, "+" + digits]))
        let tail = digits.count >= trailingDigits ? String(digits.suffix(trailingDigits)) : nil
        let rows = try await connection.query("""
            SELECT owner_kind, owner_id, value = ANY(\(candidates)) AS exact FROM contact_points
            WHERE organisation_id = commlog_current_organisation() AND kind = 'phone' AND owner_kind IN ('client', 'connection')
              AND (value = ANY(\(candidates)) OR (\(tail)::text IS NOT NULL AND right(regexp_replace(value, '[^0-9]', '', 'g'), \(trailingDigits)::int) = \(tail)))
            ORDER BY owner_kind, owner_id
            """, logger: logger)
        var exact: [ContactOwner] = [], fallback: [ContactOwner] = []
        for try await (kind, id, isExact) in rows.decode((String, String, Bool).self) {
            guard let kind = ParticipantKind(rawValue: kind) else { continue }
            let owner = ContactOwner(kind: kind, id: id)
            if isExact { if !exact.contains(owner) { exact.append(owner) } } else if !fallback.contains(owner) { fallback.append(owner) }
        }
        return exact.isEmpty ? fallback : exact
    }

    private func clientOf(connection id: String, on connection: PostgresConnection, logger: Logger) async throws -> String? {
        for try await client in try await connection.query(
            "SELECT client_id FROM connections WHERE organisation_id = commlog_current_organisation() AND id = \(id)", logger: logger
        ).decode(String?.self) {
            return client
        }
        return nil
    }

    private func staffByExtension(_ extensions: [String], on connection: PostgresConnection, logger: Logger) async throws -> [String: String] {
        guard !extensions.isEmpty else { return [:] }
        var staff: [String: String] = [:]
        let rows = try await connection.query("""
            SELECT value, owner_id FROM contact_points
            WHERE organisation_id = commlog_current_organisation() AND kind = 'extension' AND owner_kind = 'staff' AND value = ANY(\(extensions))
            ORDER BY owner_id
            """, logger: logger)
        for try await (value, id) in rows.decode((String, String).self) where staff[value] == nil {
            staff[value] = id
        }
        return staff
    }
}
