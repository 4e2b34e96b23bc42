import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A call recording as downloaded.
struct FetchedRecording: Sendable {
    let url: String
    let contentType: String?
    let content: [UInt8]
    var sha256: String { SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined() }
}

/// Downloads call recordings: bounded in size, with a timeout per attempt and retries with backoff.
struct RecordingFetcher: Sendable {
    struct Configuration: Sendable {
        /// Larger recordings are refused (default 100 MiB).
        var maximumBytes = 100 * 1024 * 1024
        /// Time allowed for one download attempt (default 60 s).
        var timeout: Duration = .seconds(60)
        /// Attempts before giving up (default 3).
        var attempts = 3
        /// Hosts recordings may come from (`.example.org` also admits its subdomains); nil: any host.
        var allowedHosts: [String]?

        /// Whether `host` is one recordings may be downloaded from.
        func allows(_ host: String) -> Bool {
            guard let allowedHosts else { return true }
            let host = host.lowercased()
            return allowedHosts.contains { allowed in
                allowed.hasPrefix(".") ? host.hasSuffix(allowed) || host == String(allowed.dropFirst()) : host == allowed
            }
        }
    }

    /// A recording that cannot be fetched: refused (never retried) or still failing after the attempts.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let client: HTTPClient
    let configuration: Configuration
    let logger: Logger

    func fetch(_ url: String) async throws -> FetchedRecording {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw Failure(description: "recording_url: not an http(s) URL (\(url))")
        }
        guard configuration.allows(parsed.host ?? "") else {
            throw Failure(description: "recording_url: \(parsed.host ?? "") is not a host recordings may come from (COMMLOG_RECORDING_HOSTS)")
        }
        var lastError = ""
        for attempt in 1...max(1, configuration.attempts) {
            do {
                return try await fetchOnce(url)
            } catch let failure as Failure {
                throw failure
            } catch {
                lastError = "\(error)"
                logger.warning("recording download failed", metadata: ["url": "\(url)", "attempt": "\(attempt)", "error": "\(error)"])
                if attempt < configuration.attempts { try await Task.sleep(for: .milliseconds(250 << attempt)) }
            }
        }
        throw Failure(description: "recording_url: could not download \(url) after \(configuration.attempts) attempts: \(lastError)")
    }

    private struct Retryable: Error, CustomStringConvertible { let description: String }

    private func fetchOnce(_ url: String) async throws -> FetchedRecording {
        let request = HTTPClientRequest(url: url)
        let response = try await client.execute(request, timeout: .nanoseconds(Int64(configuration.timeout.components.seconds) * 1_000_000_000))
        switch response.status.code {
        case 200..<300:
            break
        case 408, 429, 500...:
            throw Retryable(description: "HTTP \(response.status.code)")
        default:
            throw Failure(description: "recording_url: \(url) answered HTTP \(response.status.code)")
        }
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > configuration.maximumBytes {
            throw Failure(description: "recording_url: \(url) is \(length) bytes, more than the \(configuration.maximumBytes) allowed")
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: configuration.maximumBytes)
        } catch is NIOTooManyBytesError {
            throw Failure(description: "recording_url: \(url) is more than the \(configuration.maximumBytes) bytes allowed")
        }
        return FetchedRecording(url: url, contentType: response.headers.first(name: "content-type"), content: Array(body.readableBytesView))
    }
}
