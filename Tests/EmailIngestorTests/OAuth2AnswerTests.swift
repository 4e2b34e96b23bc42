import Foundation
import Testing
@testable import EmailIngestor

/// What the ingestor reads from a token endpoint, and how it writes the form it posts.
@Suite struct OAuth2AnswerTests {
    func answer(_ json: String) throws -> OAuth2AccessTokens.Answer {
        try JSONDecoder().decode(OAuth2AccessTokens.Answer.self, from: Data(json.utf8))
    }

    @Test("expires_in as a number, as a string (Azure AD v1), or missing (an hour); a rotated refresh token when sent")
    func expiry() throws {
        #expect(try answer(#"{"access_token":"a","expires_in":3599,"refresh_token":"r2"}"#).expiresIn == 3599)
        #expect(try answer(#"{"access_token":"a","expires_in":3599,"refresh_token":"r2"}"#).refreshToken == "r2")
        #expect(try answer(#"{"access_token":"a","expires_in":"4000"}"#).expiresIn == 4000)
        let plain = try answer(#"{"access_token":"a","token_type":"Bearer"}"#)
        #expect(plain.expiresIn == 3600)
        #expect(plain.refreshToken == nil)
        #expect(throws: DecodingError.self) { try answer(#"{"error":"invalid_grant"}"#) }
    }

    @Test("form values keep only unreserved characters; the rest, non-ASCII included, is percent-encoded")
    func form() {
        #expect(OAuth2AccessTokens.formEncoded("a-b._~Z9") == "a-b._~Z9")
        #expect(OAuth2AccessTokens.formEncoded("client secret & more=é/+") == "client%20secret%20%26%20more%3D%C3%A9%2F%2B")
    }
}
