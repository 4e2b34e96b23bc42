import CommlogDomain
import Foundation
import Logging
import PostgresNIO

/// A timeline screen: the client's, the patient's, the staff member's, or the organisation's board. Its header
/// (names, never bare ids), the filters as the form shows them, and the first page of rows; the scripts load
/// the next pages (`apiQuery` with `encodedCursor`) and add new entries live.
struct TimelinePage: Sendable {
    /// A line of the header: "Patients: Rex, Molly".
    struct Fact: Sendable {
        var label: String
        var values: [Link]
    }

    struct Link: Sendable {
        var text: String
        var href: String?
    }

    var frame: PageFrame
    var kind: String
    var heading: String
    var facts: [Fact] = []
    var notice: String?
    var error: String?

    // The filters.
    var filter = ListFilter()
    var from = ""
    var to = ""
    var text = ""
    var unfiled = false
    var typeOptions: [PageOption] = []
    var directionOptions: [PageOption] = []
    var statusOptions: [PageOption] = []
    var reasonOptions: [PageOption] = []
    var locationOptions: [PageOption] = []
    var patientOptions: [PageOption] = []
    var isFiltered = false

    // The table.
    var rows: [PageRow] = []
    var nextCursor: PageCursor?
    var encodedCursor: String?
    /// The query of `GET /v1/communications` that gives these rows (without cursor).
    var apiQuery = ""
    var showClient: Bool
    var showPatient: Bool
    var showRecordFlags: Bool

    // Writing.
    /// The client a new manual entry is filed under (client and patient screens).
    var newEntryClientID: String?
    var newEntryPatientID: String?
    var printHref: String?

    // What the template asks (stored: templates read stored properties only).
    /// The screen's address without filters.
    var path = ""
    var isBoard = false
    var hasRows = false
    var hasPatientOptions = false

    static func make(
        _ screen: WebPages.Screen, basics: PageBasics, path: String, query: [String: String],
        connection: PostgresConnection, caller: Caller, logger: Logger
    ) async throws -> TimelinePage? {
        let lookup = DirectoryLookup(connection: connection, caller: caller, logger: logger)
        var page: TimelinePage
        switch screen {
        case .client(let id):
            guard let client = try await lookup.client(id) else { return nil }
            page = TimelinePage(frame: basics.frame(client.record.name, screen: "timeline", path: path), kind: "client",
                                heading: client.record.name + (client.deleted ? " (deleted)" : ""), showClient: false, showPatient: true, showRecordFlags: false)
            page.filter.clientID = id
            page.facts.append(Fact(label: "Patients", values: client.patients.map { Link(text: $0.name, href: "/patients/\(PageFrame.segment($0.id))") }))
            if client.record.mayContact {
                page.facts.append(Fact(label: "Phone", values: client.record.phones.map { Link(text: $0, href: nil) }))
                page.facts.append(Fact(label: "Email", values: client.record.emails.map { Link(text: $0, href: nil) }))
            }
            page.facts.append(Fact(label: "Care team", values: client.relatedStaff.map { Link(text: $0.name, href: "/staff/\(PageFrame.segment($0.id))") }))
            page.facts.append(Fact(label: "Connections", values: client.connections.map { connection in
                Link(text: connection.relationship.map { "\(connection.name) (\($0))" } ?? connection.name, href: nil)
            }))
            if !caller.seesEverything && !client.relatedStaff.contains(where: { $0.id == caller.staffID }) {
                page.notice = "You are not in \(client.record.name)'s care team: you see only the entries you took part in."
            }
            page.patientOptions = client.patients.map { PageOption(value: $0.id, label: $0.name, selected: false) }
            page.newEntryClientID = client.deleted ? nil : id
        case .patient(let id):
            guard let patient = try await lookup.patient(id) else { return nil }
            page = TimelinePage(frame: basics.frame(patient.record.name, screen: "timeline", path: path), kind: "patient",
                                heading: patient.record.name + (patient.deleted ? " (deleted)" : ""), showClient: false, showPatient: false, showRecordFlags: true)
            page.filter.patientID = id
            if let clientID = patient.record.clientID {
                page.facts.append(Fact(label: "Client", values: [Link(text: patient.record.clientName ?? clientID, href: "/clients/\(PageFrame.segment(clientID))")]))
                page.newEntryClientID = patient.deleted ? nil : clientID
                page.newEntryPatientID = id
            }
            page.printHref = "/patients/\(PageFrame.segment(id))/print"
        case .staff(let id):
            guard let member = try await lookup.staff(only: id).first else { return nil }
            page = TimelinePage(frame: basics.frame(member.name, screen: "timeline", path: path), kind: "staff",
                                heading: member.name, showClient: true, showPatient: true, showRecordFlags: false)
            page.filter.staffID = id
            page.facts.append(Fact(label: "Roles", values: member.roles.map { Link(text: $0.rawValue.capitalized, href: nil) }))
            if let phoneExtension = member.extension { page.facts.append(Fact(label: "Extension", values: [Link(text: phoneExtension, href: nil)])) }
        case .board:
            page = TimelinePage(frame: basics.frame("Board", screen: "timeline", path: path), kind: "board",
                                heading: "Communications", showClient: true, showPatient: true, showRecordFlags: false)
        }
        page.facts.removeAll { $0.values.isEmpty }
        page.path = path
        page.isBoard = page.kind == "board"
        page.hasPatientOptions = !page.patientOptions.isEmpty
        try await page.readFilters(query, format: basics.format, lookup: lookup)
        return page
    }

    /// The filters of the screen's address (`?type=note&from=2026-12-01`), checked as the API checks them; a
    /// wrong one is said above the table instead of listing.
    mutating func readFilters(
        _ query: [String: String], format: PageFormat, lookup: DirectoryLookup
    ) async throws {
        var problems: [String] = []
        func value(_ name: String) -> String? {
            guard let raw = query[name], !raw.isEmpty else { return nil }
            guard raw.count <= 200, !raw.contains("\0") else {
                problems.append("\(name): at most 200 characters of text")
                return nil
            }
            return raw
        }
        func choice<T: RawRepresentable<String> & CaseIterable>(_ type: T.Type, _ name: String, label: (T) -> String) -> ([PageOption], T?) {
            let selected = value(name)
            var found: T?
            let options = T.allCases.map { option in
                if option.rawValue == selected { found = option }
                return PageOption(value: option.rawValue, label: label(option), selected: option.rawValue == selected)
            }
            if let selected, found == nil { problems.append("\(name): no such value \"\(selected)\"") }
            return (options, found)
        }
        (typeOptions, filter.type) = choice(CommunicationType.self, "type") { PageFormat.label($0) }
        (directionOptions, filter.direction) = choice(Direction.self, "direction") { $0 == .inbound ? "Inbound" : "Outbound" }
        (statusOptions, filter.status) = choice(CommunicationStatus.self, "status") { $0.rawValue.capitalized }
        if let reason = value("reason") { filter.reason = reason }
        if let location = value("location_id") { filter.locationID = location }
        if kind == "client", let patient = value("patient_id") {
            filter.patientID = patient
            patientOptions = patientOptions.map { PageOption(value: $0.value, label: $0.label, selected: $0.value == patient) }
        }
        if isBoard, value("unfiled") != nil {
            unfiled = true
            filter.unfiled = true
        }
        if let from = value("from") {
            self.from = from
            filter.from = format.startOfDay(from)
            if filter.from == nil { problems.append("from: not a date (yyyy-mm-dd)") }
        }
        if let to = value("to") {
            self.to = to
            // The whole of the last day.
            filter.to = format.startOfDay(to, addingDays: 1)
            if filter.to == nil { problems.append("to: not a date (yyyy-mm-dd)") }
        }
        if let text = value("q") {
            self.text = text
            filter.text = text
        }
        isFiltered = filter.type != nil || filter.direction != nil || filter.status != nil || filter.reason != nil || filter.locationID != nil
            || filter.from != nil || filter.to != nil || filter.text != nil || unfiled || (kind == "client" && filter.patientID != nil)

        reasonOptions = try await lookup.reasons().filter { $0.active || $0.code == filter.reason }
            .map { PageOption(value: $0.code, label: $0.label, selected: $0.code == filter.reason) }
        locationOptions = try await lookup.locations().map { PageOption(value: $0.id, label: $0.name, selected: $0.id == filter.locationID) }
        if !problems.isEmpty { error = "Check the filters: " + problems.joined(separator: "; ") + "." }
        apiQuery = Self.apiQuery(filter)
    }

    /// The filter as the query of `GET /v1/communications`.
    static func apiQuery(_ filter: ListFilter) -> String {
        var items: [(String, String)] = []
        if let value = filter.clientID { items.append(("client_id", value)) }
        if let value = filter.patientID { items.append(("patient_id", value)) }
        if let value = filter.staffID { items.append(("staff_id", value)) }
        if let value = filter.type { items.append(("type", value.rawValue)) }
        if let value = filter.direction { items.append(("direction", value.rawValue)) }
        if let value = filter.status { items.append(("status", value.rawValue)) }
        if let value = filter.reason { items.append(("reason", value)) }
        if let value = filter.locationID { items.append(("location_id", value)) }
        if let value = filter.from { items.append(("from", value.formatted(.iso8601))) }
        if let value = filter.to { items.append(("to", value.formatted(.iso8601))) }
        if let value = filter.text { items.append(("q", value)) }
        if filter.unfiled { items.append(("unfiled", "true")) }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        return items.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }
}
