import Foundation
import LogStore
import CommlogDomain

/// The authenticated staff member a request is made for, from the bearer token.
struct Caller: Sendable, Equatable {
    let staffID: String
    let organisationID: String
    let roles: Set<StaffRole>
    /// When the caller's token expires: a live stream is closed then.
    var expiresAt: Date = .distantFuture

    /// Managers and admins see the whole organisation (the board); staff see what visibility gives them.
    var seesEverything: Bool { roles.contains(.manager) || roles.contains(.admin) }

    @TaskLocal static var current: Caller?

    /// The caller as the log records who changed an entry.
    var actor: LogActor { LogActor(staffID: staffID, isManager: seesEverything) }
}
