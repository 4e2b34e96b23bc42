import CommlogDomain
import CommlogRuntime
import Foundation
import Hummingbird
import Logging
import Metrics

/// The phone systems' HTTP doors: the JSON webhook and Twilio-style callbacks. Each answers 202 only once
/// the broker has confirmed the events; bad input is a 4xx problem, never a 5xx.
struct CallEventRoutes: Sendable {
    /// Largest request body accepted (1 MiB): call events are small.
    static let maximumBody = 1024 * 1024

    let secrets: IntegrationSecrets
    let publisher: CallEventPublisher
    /// Opens the Twilio auth tokens; nil when `COMMLOG_SECRET_KEY` is not configured.
    let sealer: SecretSealer?
    /// The scheme and host Twilio calls (`COMMLOG_TWILIO_WEBHOOK_BASE_URL`), for the signature's URL.
    let twilioBaseURL: String?
    let logger: Logger

    func add(to router: Router<BasicRequestContext>) {
        router.post("/v1/organisations/:organisation/call-events") { request, context in
            await answer(request, context, ingress: "webhook") { body in
                do {
                    return try PhoneCallEvent.decodeWebhookBody(body)
                } catch {
                    throw Problem(.badRequest, "\(error)")
                }
            }
        }
        for path in ["/v1/organisations/:organisation/twilio/status", "/v1/organisations/:organisation/twilio/recording"] {
            router.post(RouterPath(path)) { request, context in
                await answer(request, context, ingress: "twilio") { body in
                    var fields = TwilioCallback.form(String(decoding: body, as: UTF8.self))
                    if fields["Extension"] == nil, let phoneExtension = request.uri.queryParameters.get("extension") { fields["Extension"] = phoneExtension }
                    if let field = fields.first(where: { $0.key.contains("\u{0}") || $0.value.contains("\u{0}") })?.key {
                        throw Problem(.badRequest, "\(field): must not contain NUL characters")
                    }
                    do {
                        let events = try TwilioCallback.events(fields)
                        for event in events { try event.validate() }
                        return events
                    } catch {
                        throw Problem(.badRequest, "\(error)")
                    }
                }
            }
        }
    }

    /// Authenticates, reads and maps the body, publishes with confirms, and answers.
    private func answer(
        _ request: Request, _ context: BasicRequestContext, ingress: String,
        events map: (Data) throws -> [PhoneCallEvent]
    ) async -> Response {
        let response: Response
        do {
            guard let organisation = context.parameters.get("organisation"), !organisation.isEmpty else {
                throw Problem(.notFound, "no organisation in the path")
            }
            guard let secret = Self.secret(in: request) else {
                throw Problem(.unauthorized, "the integration's secret is required (Authorization: Bearer <secret>)")
            }
            guard let integration = try await secrets.integration(secret, organisationID: organisation) else {
                throw Problem(.unauthorized, "the secret is not a call integration secret of this organisation")
            }
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: Self.maximumBody)
            } catch {
                throw Problem(.contentTooLarge, "the body is larger than \(Self.maximumBody) bytes")
            }
            if ingress == "twilio", let sealed = integration.twilioToken {
                try verifyTwilioSignature(request, body: buffer, sealed: sealed,
                                          context: .callIntegration(organisation: integration.organisationID, id: integration.id))
            }
            let events = try map(Data(buffer.readableBytesView))
            do {
                try await publisher.publish(events, organisationID: organisation, ingress: ingress)
            } catch let error as EventDecodingError {
                throw Problem(.badRequest, "\(error)")
            } catch {
                logger.error("could not publish call events", metadata: ["error": "\(error)", "organisation": "\(organisation)"])
                throw Problem(.serviceUnavailable, "the events could not be handed to the broker; send them again")
            }
            let body = "{\"accepted\":\(events.count)}"
            response = Response(status: .accepted, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        } catch let problem as Problem {
            var answer = problem.response
            // Twilio sends a callback without credentials first, and the URL's user and password only after a
            // 401 that asks for Basic: a Bearer challenge would leave every real Twilio callback unauthenticated.
            if ingress == "twilio", answer.status == .unauthorized { answer.headers[.wwwAuthenticate] = "Basic realm=\"commlog call-bridge\"" }
            response = answer
        } catch {
            logger.error("call event request failed", metadata: ["error": "\(error)"])
            response = Problem(.serviceUnavailable, "the request could not be handled now; send it again").response
        }
        Counter(label: "commlog_call_ingress_requests_total", dimensions: [("ingress", ingress), ("status", "\(response.status.code)")]).increment()
        return response
    }

    /// Checks `X-Twilio-Signature` with the integration's auth token: a callback that was not signed by the
    /// account is refused even with the right secret in its URL.
    private func verifyTwilioSignature(
        _ request: Request, body: ByteBuffer, sealed: (ciphertext: [UInt8], keyID: String), context: SecretSealer.Context
    ) throws {
        guard let sealer else {
            logger.error("a Twilio integration has an auth token, but COMMLOG_SECRET_KEY is not configured to open it")
            throw Problem(.serviceUnavailable, "the Twilio signature cannot be verified now")
        }
        let token: String
        do {
            token = try sealer.open(sealed.ciphertext, keyID: sealed.keyID, for: context).secret
        } catch {
            logger.error("could not open a Twilio auth token", metadata: ["error": "\(error)"])
            throw Problem(.serviceUnavailable, "the Twilio signature cannot be verified now")
        }
        guard let signature = Self.header(TwilioSignature.header, in: request), !signature.isEmpty else {
            throw Problem(.unauthorized, "\(TwilioSignature.header) is required for this integration")
        }
        let urls = TwilioSignature.candidateURLs(
            base: twilioBaseURL, host: request.head.authority,
            forwardedProto: Self.header("X-Forwarded-Proto", in: request), pathAndQuery: request.uri.description
        )
        let fields = TwilioCallback.pairs(String(decoding: body.readableBytesView, as: UTF8.self))
        guard TwilioSignature.isValid(signature, token: token, urls: urls, fields: fields) else {
            throw Problem(.unauthorized, "\(TwilioSignature.header) does not match this request")
        }
    }

    /// A header's value by name, whatever its case.
    static func header(_ name: String, in request: Request) -> String? {
        request.headers.first { $0.name.canonicalName == name.lowercased() }?.value
    }

    /// The secret from `Authorization: Bearer <secret>` or HTTP Basic (the password; what a Twilio callback URL
    /// with `https://user:secret@host/...` sends).
    static func secret(in request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        switch parts[0].lowercased() {
        case "bearer":
            return value.isEmpty ? nil : value
        case "basic":
            guard let decoded = Data(base64Encoded: value).map({ String(decoding: $0, as: UTF8.self) }),
                  let colon = decoded.firstIndex(of: ":") else { return nil }
            let password = String(decoded[decoded.index(after: colon)...])
            return password.isEmpty ? nil : password
        default:
            return nil
        }
    }
}
