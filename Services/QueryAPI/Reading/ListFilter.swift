import CommlogDomain
import Foundation

/// What a list asks for: the filters of `GET /v1/communications`, already validated.
struct ListFilter: Sendable, Equatable {
    var clientID: String?
    var patientID: String?
    var staffID: String?
    var type: CommunicationType?
    var direction: Direction?
    var reason: String?
    var locationID: String?
    var status: CommunicationStatus?
    /// Only entries filed under no client.
    var unfiled = false
    var from: Date?
    var to: Date?
    var text: String?
    var limit = 50
    var cursor: PageCursor?

    /// Without a client, patient or staff filter a list is the organisation-wide board.
    var isBoard: Bool { clientID == nil && patientID == nil && staffID == nil }
}
