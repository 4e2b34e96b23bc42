import CommlogDomain
import Foundation

/// What every screen shows around its content: the organisation, the signed-in staff member, the navigation.
/// Property names are the templates' (`Web/Templates/*.mustache`).
struct PageFrame: Sendable {
    var title: String
    var screen: String
    var organisationName: String
    var timeZone: String
    var staffID: String
    var staffName: String
    var isManager: Bool
    var isAdmin: Bool
    /// The staff member's roles, comma-separated, for the scripts (which buttons to offer).
    var roles: String
    var nav: [NavLink]

    struct NavLink: Sendable {
        var href: String
        var label: String
        var current: Bool
    }

    init(title: String, screen: String, path: String, organisation: PageOrganisation, caller: Caller, staffName: String?) {
        self.title = title
        self.screen = screen
        organisationName = organisation.name.isEmpty ? caller.organisationID : organisation.name
        timeZone = organisation.timeZone.identifier
        staffID = caller.staffID
        self.staffName = staffName ?? caller.staffID
        isManager = caller.seesEverything
        isAdmin = caller.roles.contains(.admin)
        roles = caller.roles.map(\.rawValue).sorted().joined(separator: ",")
        var nav = [NavLink(href: "/staff/\(Self.segment(caller.staffID))", label: "My communications", current: false)]
        if isManager { nav.append(NavLink(href: "/board", label: "Board", current: false)) }
        if isAdmin { nav.append(NavLink(href: "/settings", label: "Settings", current: false)) }
        self.nav = nav.map { link in
            var link = link
            link.current = link.href == path
            return link
        }
    }

    /// An id as one path segment.
    static func segment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
    }
}

/// The organisation as the page needs it.
struct PageOrganisation: Sendable {
    var name: String
    var timeZone: TimeZone
}

/// How the page writes dates, times and the log's values: in the organisation's time zone, as people read them.
struct PageFormat: Sendable {
    let timeZone: TimeZone

    /// "3 Dec 2026 17:09", the scripts write the same (`format.js`).
    func dateTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let month = Self.months[(parts.month ?? 1) - 1]
        return String(format: "%d %@ %d %02d:%02d", parts.day ?? 1, month, parts.year ?? 1970, parts.hour ?? 0, parts.minute ?? 0)
    }

    /// The start of `day` (`yyyy-mm-dd`) in the organisation's time zone, or nil when it is not such a date.
    func startOfDay(_ day: String, addingDays: Int = 0) -> Date? {
        let fields = day.split(separator: "-")
        guard fields.count == 3, let year = Int(fields[0]), let month = Int(fields[1]), let date = Int(fields[2]),
              (1...9999).contains(year), (1...12).contains(month), (1...31).contains(date) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard let start = calendar.date(from: DateComponents(year: year, month: month, day: date)),
              calendar.component(.day, from: start) == date else { return nil }
        return calendar.date(byAdding: .day, value: addingDays, to: start)
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func label(_ type: CommunicationType) -> String {
        switch type {
        case .email: "Email"
        case .sms: "SMS"
        case .phone: "Phone"
        case .mail: "Mail"
        case .note: "Note"
        }
    }

    static func label(_ direction: Direction?) -> String {
        switch direction {
        case .inbound: "In"
        case .outbound: "Out"
        case nil: ""
        }
    }
}

/// One row of a timeline table.
struct PageRow: Sendable {
    var id: String
    /// The entry's version: a live refresh leaves a row that did not change as it is (focus and all).
    var version: Int
    var occurredAt: String
    var when: String
    var clientName: String?
    var clientHref: String?
    var patientName: String?
    var patientHref: String?
    var type: String
    var direction: String
    var reason: String
    var location: String
    var address: String
    var description: String
    var isOpen: Bool
    var hasRecording: Bool
    var inRecord: Bool
    var printed: Bool

    init(_ summary: EntrySummary, format: PageFormat) {
        id = summary.id.uuidString.lowercased()
        version = summary.version
        occurredAt = summary.occurredAt.formatted(.iso8601)
        when = format.dateTime(summary.occurredAt)
        if let client = summary.clientID {
            clientName = summary.names.client ?? client
            clientHref = "/clients/\(PageFrame.segment(client))"
        }
        if let patient = summary.patientID {
            patientName = summary.names.patient ?? patient
            patientHref = "/patients/\(PageFrame.segment(patient))"
        }
        type = PageFormat.label(summary.type)
        direction = PageFormat.label(summary.direction)
        reason = summary.names.reason ?? summary.reason ?? ""
        location = summary.names.location ?? summary.locationID ?? ""
        address = summary.address ?? ""
        description = Self.describe(subject: summary.subject, description: summary.description)
        isOpen = summary.status == .open
        hasRecording = summary.hasRecording
        inRecord = summary.showInPatientHistory
        printed = summary.printInPatientHistory
    }

    /// The subject, else the description, cut for the table (the detail shows all of it).
    static func describe(subject: String?, description: String?) -> String {
        let text = [subject, description].compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }.first { !$0.isEmpty } ?? ""
        return text.count > 140 ? String(text.prefix(139)) + "…" : text
    }
}

/// A choice of a drop-down, selected or not.
struct PageOption: Sendable {
    var value: String
    var label: String
    var selected: Bool
}
