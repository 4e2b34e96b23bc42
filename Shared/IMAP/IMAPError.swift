internal import CLibEtpan

/// A failed IMAP operation: what was being done, libetpan's status and the server's last words.
public struct IMAPError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable {
        /// The server could not be reached, or TLS failed.
        case connect
        /// The server refused the credentials.
        case authentication
        /// A command failed (NO/BAD, or the connection dropped in the middle).
        case command
        /// The session is closed (shut down, or never connected).
        case closed
    }

    public let code: Code
    public let operation: String
    /// libetpan's status (`MAILIMAP_ERROR_*`), 0 when not from libetpan.
    public let status: Int32
    /// The server's response text, when it said something.
    public let response: String

    init(_ code: Code, _ operation: String, status: Int32 = 0, response: String = "") {
        self.code = code
        self.operation = operation
        self.status = status
        self.response = response
    }

    /// Whether the server refused the credentials.
    public var isAuthentication: Bool { code == .authentication }

    /// Whether the connection is unusable after this (the stream broke, or the reply could not be read), as
    /// opposed to a command the server answered NO or BAD to, after which the session carries on.
    public var isConnectionLost: Bool {
        guard code == .command else { return true }
        let lost: [Int32] = [
            Int32(MAILIMAP_ERROR_BAD_STATE), Int32(MAILIMAP_ERROR_STREAM), Int32(MAILIMAP_ERROR_PARSE),
            Int32(MAILIMAP_ERROR_FATAL), Int32(MAILIMAP_ERROR_PROTOCOL), Int32(MAILIMAP_ERROR_MEMORY), Int32(MAILIMAP_ERROR_SSL),
        ]
        return lost.contains(status)
    }

    public var description: String {
        var text = "IMAP \(operation) failed"
        switch code {
        case .connect: text += " (cannot connect)"
        case .authentication: text += " (authentication refused)"
        case .command: text += ""
        case .closed: text += " (session closed)"
        }
        if status != 0 { text += ", status \(status)" }
        if !response.isEmpty { text += ": \(response)" }
        return text
    }
}

extension IMAPError {
    /// Routes every libetpan status through one place: NO_ERROR and the two greeting statuses are success.
    static func check(_ status: Int32, _ operation: String, code: Code = .command, session: UnsafeMutablePointer<mailimap>?) throws {
        let success: [Int32] = [
            Int32(MAILIMAP_NO_ERROR),
            Int32(MAILIMAP_NO_ERROR_AUTHENTICATED),
            Int32(MAILIMAP_NO_ERROR_NON_AUTHENTICATED),
        ]
        guard !success.contains(status) else { return }
        var code = code
        if status == Int32(MAILIMAP_ERROR_LOGIN) { code = .authentication }
        if status == Int32(MAILIMAP_ERROR_CONNECTION_REFUSED) || status == Int32(MAILIMAP_ERROR_SSL) { code = .connect }
        let response = session.map { String(cString: commlog_imap_response($0)) } ?? ""
        throw IMAPError(code, operation, status: status, response: response)
    }
}
