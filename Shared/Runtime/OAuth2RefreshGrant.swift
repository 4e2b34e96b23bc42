import Foundation

/// What a mailbox of secret kind `oauth2` keeps, sealed: enough to ask the provider for a fresh access token
/// (RFC 6749 §6, the refresh-token grant) whenever the ingestor logs in with `AUTHENTICATE XOAUTH2`.
/// Access tokens live about an hour; a refresh token lasts until it is revoked (providers may rotate it
/// on use, and the ingestor then seals the new one).
///
/// `commlog mailbox add|secret --oauth2-token-url …` writes it; the email ingestor reads it.
public struct OAuth2RefreshGrant: Codable, Sendable, Equatable {
    /// The provider's token endpoint (https; http only on this machine, for tests).
    public var tokenURL: String
    public var clientID: String
    /// For confidential clients; public clients have none.
    public var clientSecret: String?
    public var refreshToken: String
    /// The scopes to ask for (space-separated), e.g. `https://outlook.office365.com/IMAP.AccessAsUser.All offline_access`.
    public var scope: String?

    enum CodingKeys: String, CodingKey {
        case tokenURL = "token_url", clientID = "client_id", clientSecret = "client_secret", refreshToken = "refresh_token", scope
    }

    public init(tokenURL: String, clientID: String, clientSecret: String?, refreshToken: String, scope: String?) throws {
        self.tokenURL = tokenURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.refreshToken = refreshToken
        self.scope = scope
        try validate()
    }

    /// The token endpoint must be https (the grant's secrets travel to it), except on this machine.
    public func validate() throws {
        guard let url = URL(string: tokenURL), let scheme = url.scheme?.lowercased(), let host = url.host else {
            throw OAuth2GrantError("the token URL \(tokenURL) is not a URL")
        }
        guard scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(host)) else {
            throw OAuth2GrantError("the token URL must be https (http only for 127.0.0.1 or localhost): \(tokenURL)")
        }
        guard !clientID.isEmpty else { throw OAuth2GrantError("the client id is empty") }
        guard !refreshToken.isEmpty else { throw OAuth2GrantError("the refresh token is empty") }
    }

    /// The text that is sealed.
    public func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Reads an opened secret of kind `oauth2`.
    public init(opened text: String) throws {
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(text.utf8))
        } catch {
            throw OAuth2GrantError("the sealed OAuth2 grant cannot be read (\(error)); set it again with `commlog mailbox secret`")
        }
        try validate()
    }
}

public struct OAuth2GrantError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
