import CommlogDomain
import Foundation
import Logging
import PostgresNIO

/// Look-ups in the organisation's directory inside a tenant transaction: one client or patient, the lists of
/// locations and staff (the search is `DirectorySearch`'s).
///
/// Names are for every staff member of the organisation; contact details (emails, phones) only for those who may
/// see them (`mayContact`): managers and admins, the related staff of a client (for the client and its
/// connections), and a staff member for themselves.
struct DirectoryLookup {
    let connection: PostgresConnection
    let caller: Caller
    let logger: Logger

    /// Appended to a prefix, the end of the range of strings that begin with it (bytewise, as the "C" collation
    /// and `text_pattern_ops` compare): no character sorts after U+10FFFF.
    static let top = "\u{10FFFF}"
}
