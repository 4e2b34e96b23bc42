import AsyncHTTPClient
import CommlogRuntime
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The access tokens of one mailbox whose secret is an OAuth2 refresh grant: a token is fetched from the
/// provider's token endpoint when there is none or it is about to expire, and kept for the logins until then.
/// A refresh token the provider rotates is handed to `rotated` (which seals and stores it) before it is used.
final class OAuth2AccessTokens: Sendable {
    private struct State {
        /// The grant the token came from (after any rotation: the one stored).
        var grant: OAuth2RefreshGrant?
        var token: String?
        var expires = ContinuousClock.Instant.now
    }

    private let state = Mutex(State())
    private let client: HTTPClient

    init(client: HTTPClient = .shared) {
        self.client = client
    }

    /// A token valid for at least another minute.
    /// - Parameters:
    ///   - stored: the grant as stored now; a token from another grant (replaced by an operator) is not used.
    ///   - rotated: stores a grant whose refresh token the provider replaced.
    func token(stored grant: OAuth2RefreshGrant, rotated: @Sendable (OAuth2RefreshGrant) async throws -> Void) async throws -> String {
        let cached = state.withLock { state -> String? in
            guard state.grant == grant, ContinuousClock.now + .seconds(60) < state.expires else { return nil }
            return state.token
        }
        if let cached { return cached }
        let answer = try await refresh(grant)
        var current = grant
        if let next = answer.refreshToken, next != grant.refreshToken {
            current.refreshToken = next
            try await rotated(current)
        }
        state.withLock {
            $0.grant = current
            $0.token = answer.accessToken
            $0.expires = ContinuousClock.now + .seconds(answer.expiresIn)
        }
        return answer.accessToken
    }

    /// Drops the token (the server refused it: revoked before it expired).
    func forget() {
        state.withLock { $0.token = nil }
    }

    /// A token endpoint's answer (RFC 6749 §5.1).
    struct Answer: Decodable {
        let accessToken: String
        let expiresIn: Int
        let refreshToken: String?

        enum CodingKeys: String, CodingKey { case accessToken = "access_token", expiresIn = "expires_in", refreshToken = "refresh_token" }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            accessToken = try container.decode(String.self, forKey: .accessToken)
            // A number, or (Azure AD's v1 endpoint) a number in a string; without it (it is only recommended), the usual hour.
            if let seconds = try? container.decodeIfPresent(Int.self, forKey: .expiresIn) {
                expiresIn = seconds
            } else if let text = try? container.decodeIfPresent(String.self, forKey: .expiresIn), let seconds = Int(text) {
                expiresIn = seconds
            } else {
                expiresIn = 3600
            }
            refreshToken = try container.decodeIfPresent(String.self, forKey: .refreshToken)
        }
    }

    /// POSTs the refresh-token grant (client credentials in the body, `client_secret_post`).
    private func refresh(_ grant: OAuth2RefreshGrant) async throws -> Answer {
        var fields = [("grant_type", "refresh_token"), ("refresh_token", grant.refreshToken), ("client_id", grant.clientID)]
        if let secret = grant.clientSecret { fields.append(("client_secret", secret)) }
        if let scope = grant.scope { fields.append(("scope", scope)) }
        var request = HTTPClientRequest(url: grant.tokenURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: fields.map { "\(Self.formEncoded($0.0))=\(Self.formEncoded($0.1))" }.joined(separator: "&")))
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            // AsyncHTTPClient keeps trying to connect until this deadline: a token endpoint that is down holds the
            // login (and the lease renewal behind it) no longer than this.
            response = try await client.execute(request, timeout: .seconds(10))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw OAuth2RefreshError(refused: false, "the token endpoint \(grant.tokenURL) could not be reached: \(error)")
        }
        let data = Data(body.readableBytesView)
        guard response.status.code == 200 else {
            // RFC 6749 §5.2: {"error": "invalid_grant", "error_description": "…"}; 4xx means the grant itself was refused.
            let problem = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
            let reason = [problem["error"] as? String, problem["error_description"] as? String].compactMap { $0 }.joined(separator: ": ")
            throw OAuth2RefreshError(refused: (400..<500).contains(Int(response.status.code)),
                                     "the token endpoint answered HTTP \(response.status.code)\(reason.isEmpty ? "" : " (\(reason))")")
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: data)
        } catch {
            throw OAuth2RefreshError(refused: false, "the token endpoint's answer has no access token (\(error))")
        }
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `application/x-www-form-urlencoded`: everything but unreserved characters percent-encoded.
    static func formEncoded(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }
}

/// The provider did not hand out an access token.
struct OAuth2RefreshError: Error, CustomStringConvertible {
    /// The grant was refused (revoked or expired refresh token, wrong client): an authentication problem,
    /// not a passing one.
    let refused: Bool
    let detail: String

    init(refused: Bool, _ detail: String) {
        self.refused = refused
        self.detail = detail
    }

    var description: String { "OAuth2 token refresh failed\(refused ? " (authentication refused)" : ""): \(detail)" }
}
