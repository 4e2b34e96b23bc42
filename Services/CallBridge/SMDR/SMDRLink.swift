import Foundation

/// A PBX whose SMDR stream an organisation connected (`commlog smdr add`).
struct SMDRLink: Sendable, Hashable {
    let organisationID: String
    let id: UUID
    let host: String
    let port: Int
    let layout: SMDRLayout
    let timeZone: TimeZone
}
