import CommlogDomain
import Foundation
import Logging
import PostgresNIO
import Storage

/// A note from the practice's old system, checked, as `commlog import notes` logs it.
public struct ImportedNote: Sendable, Hashable {
    /// The old system's id of the note: `import:<legacy id>` is the entry's idempotency key.
    public var legacyID: String
    public var occurredAt: Date
    public var clientID: String
    public var patientID: String?
    /// The organisation's own reason its category became (see `ImportedReason`), if it had one.
    public var reason: ReasonCode?
    /// The note's text: the entry's description, which timelines show.
    public var text: String?
    public var authorStaffID: String?
    public var locationID: String?

    public init(
        legacyID: String, occurredAt: Date, clientID: String, patientID: String? = nil, reason: ReasonCode? = nil,
        text: String? = nil, authorStaffID: String? = nil, locationID: String? = nil
    ) {
        self.legacyID = legacyID
        self.occurredAt = occurredAt
        self.clientID = clientID
        self.patientID = patientID
        self.reason = reason
        self.text = text
        self.authorStaffID = authorStaffID
        self.locationID = locationID
    }

    /// The entry's `source_ref`.
    public var sourceRef: String { "import:\(legacyID)" }

    /// The entry as the log keeps it: a closed `note` of source `import`, with its original time and author.
    func entry(organisationID: String) -> NewCommunication {
        NewCommunication(
            organisationID: organisationID, type: .note, direction: nil, occurredAt: occurredAt, clientID: clientID,
            patientID: patientID, locationID: locationID, authorStaffID: authorStaffID, reason: reason,
            description: text, source: .import, sourceRef: sourceRef
        )
    }
}

/// An organisation's own reason made from a legacy category: its code and, as its label, the category as written.
public struct ImportedReason: Sendable, Hashable {
    public let code: ReasonCode
    public let label: String

    public init(code: ReasonCode, label: String) {
        self.code = code
        self.label = label
    }
}

/// The log side of `commlog import notes`: categories become the organisation's own reasons, notes become
/// `note` entries of source `import`, inserted idempotently on `import:<legacy id>` by `CommunicationWriter`.
/// A second run of the same file, or a run after one that was killed, adds only what is missing.
public struct ImportedNotes: Sendable {
    public let database: Database
    public let organisationID: String

    public init(database: Database, organisationID: String) {
        self.database = database
        self.organisationID = organisationID
    }

    /// The organisation's time zone, in which times without an offset are read; `nil` when the directory does
    /// not know the organisation.
    public func timeZone() async throws -> TimeZone? {
        let organisation = organisationID
        let logger = database.logger
        let name = try await database.withTenant(organisation) { connection -> String? in
            for try await name in try await connection.query("SELECT timezone FROM organisations WHERE id = \(organisation)", logger: logger)
                .decode(String.self) { return name }
            return nil
        }
        return name.map { TimeZone(identifier: $0) ?? TimeZone(secondsFromGMT: 0)! }
    }

    /// The reason codes the organisation has already, standard or its own, with their labels.
    public func existingReasons() async throws -> [ReasonCode: String] {
        let logger = database.logger
        return try await database.withTenant(organisationID) { connection in
            var reasons: [ReasonCode: String] = [:]
            for try await (code, label) in try await connection.query("SELECT code, name FROM reasons", logger: logger).decode((String, String).self) {
                reasons[ReasonCode(code)] = label
            }
            return reasons
        }
    }

    /// Adds `reasons` the organisation lacks (a code it has, standard or its own, is reused as it is) and logs
    /// `notes`, in one transaction; returns how many notes were new.
    public func write(_ notes: [ImportedNote], reasons: [ImportedReason]) async throws -> Int {
        let organisation = organisationID
        let logger = database.logger
        return try await database.withTenant(organisation) { connection in
            if !reasons.isEmpty {
                try await connection.query("""
                    INSERT INTO reasons (organisation_id, code, name)
                    SELECT \(organisation), code, name FROM unnest(\(reasons.map(\.code.rawValue))::text[], \(reasons.map(\.label))::text[]) AS r(code, name)
                    WHERE NOT EXISTS (SELECT 1 FROM reasons e WHERE e.code = r.code)
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            let logged = try await CommunicationWriter.insert(notes.map { $0.entry(organisationID: organisation) }, on: connection, logger: logger)
            return logged.count
        }
    }
}
