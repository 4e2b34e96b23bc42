import ArgumentParser
import Auth
import CommlogDomain
import CommlogRuntime
import Foundation

/// `commlog token`: a bearer token for a staff member, signed with `COMMLOG_JWT_SECRET` (for local use and tests).
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a JWT for a staff member (HS256 with COMMLOG_JWT_SECRET).")

    @OptionGroup var staffToken: StaffTokenOptions

    func run() async throws {
        print(try await staffToken.signed(configuration: try ProgramConfiguration.forAdmin()))
    }
}

/// `commlog launch-url`: a link that opens the web page signed in as a staff member (the token in the link's
/// fragment, which the browser never sends to a server), and then the screen `--to` names.
struct LaunchURL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch-url",
        abstract: "Print a link that signs a staff member in to the web page (at COMMLOG_QUERY_API_URL) and opens --to."
    )

    @OptionGroup var staffToken: StaffTokenOptions

    @Option(help: "The screen to open: /board, /clients/ID, /patients/ID, /staff/ID or /settings (default: the staff member's own).")
    var to: String?

    func validate() throws {
        if let to, !(to.hasPrefix("/") && !to.hasPrefix("//") && !to.contains(where: { $0.isWhitespace || $0 == "\\" })) {
            throw ValidationError("--to must be a path of the page such as /clients/c-1 (got \(to))")
        }
    }

    func run() async throws {
        let configuration = try ProgramConfiguration.forAdmin()
        let token = try await staffToken.signed(configuration: configuration)
        var base = configuration.string(.queryAPIURL) ?? ConfigurationKey.queryAPIURL.defaultValue ?? "http://127.0.0.1:8080"
        while base.hasSuffix("/") { base.removeLast() }
        var fragment = "token=\(token)"
        if let to {
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~/"))
            fragment += "&to=\(to.addingPercentEncoding(withAllowedCharacters: allowed) ?? to)"
        }
        print("\(base)/launch#\(fragment)")
    }
}

/// Who a token is for, and for how long: the options `commlog token` and `commlog launch-url` share.
struct StaffTokenOptions: ParsableArguments {
    @Option(help: "The organisation id.")
    var org: String

    @Option(help: "The staff id.")
    var staff: String

    @Option(help: "A role: staff, manager or admin (repeat for several).")
    var role: [StaffRole] = [.staff]

    @Option(help: "How long the token is valid: seconds, or with a unit (90s, 30m, 1h, 7d).")
    var ttl = "1h"

    func validate() throws {
        if Self.seconds(ttl) == nil { throw ValidationError("--ttl must be a number of seconds or end in s, m, h or d (got \(ttl))") }
    }

    /// The token, HS256 with `COMMLOG_JWT_SECRET`.
    func signed(configuration: ProgramConfiguration) async throws -> String {
        guard let secret = configuration.jwtSecret else {
            throw ValidationError("COMMLOG_JWT_SECRET is not set (make run writes it to .data/commlog.env)")
        }
        let keys = try await StaffTokenKeys.hmac(secret: secret)
        // What query-api checks, written in: the first configured issuer and the audience.
        let issuer = configuration.string(.jwtIssuers).flatMap { try? StaffTokenPolicy.issuers($0) }.flatMap { issuers in
            configuration.string(.jwtIssuers)?.split(separator: ",").lazy.map { $0.split(separator: "=")[0].trimmingCharacters(in: .whitespaces) }
                .first { issuers[$0] != nil }
        }
        let now = Date()
        let claims = StaffClaims(staffID: staff, organisationID: org, roles: role, expires: now.addingTimeInterval(Self.seconds(ttl)!),
                                 issuer: issuer, audience: configuration.string(.jwtAudience), issuedAt: now)
        return try await keys.sign(claims)
    }

    static func seconds(_ text: String) -> TimeInterval? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()), value > 0 { return value * factor }
        if let value = Double(text), value > 0 { return value }
        return nil
    }
}

extension StaffRole: ExpressibleByArgument {}
