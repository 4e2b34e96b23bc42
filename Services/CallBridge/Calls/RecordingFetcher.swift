import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Where one download attempt's bytes go as they arrive (`RecordingUpload` writes them to the database).
protocol RecordingSink: Sendable {
    /// Bytes taken so far.
    var size: Int { get }
    mutating func append(_ buffer: ByteBuffer) async throws
    /// The download is complete.
    mutating func finish() async throws
    /// The attempt failed: drop what was taken.
    func discard() async
}

/// A call recording as downloaded into its sink.
struct FetchedRecording<Sink: RecordingSink>: Sendable {
    /// The URL the call event named (not the one a redirect led to): the recording's identity.
    let url: String
    let contentType: String?
    let sink: Sink
}

/// Downloads call recordings: only from allowed sources (`RecordingSources`, checked again at every redirect),
/// bounded in size, with a timeout per attempt and retries with backoff.
struct RecordingFetcher: Sendable {
    struct Configuration: Sendable {
        /// Larger recordings are refused (default 100 MiB).
        var maximumBytes = 100 * 1024 * 1024
        /// Time allowed for one download attempt (default 60 s).
        var timeout: Duration = .seconds(60)
        /// Attempts before giving up (default 3).
        var attempts = 3
        /// Redirects followed, each checked like the first URL (default 5).
        var maximumRedirects = 5
        /// Where recordings may come from.
        var sources = RecordingSources()
    }

    /// A recording that cannot be fetched: refused (never retried) or still failing after the attempts.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let configuration: Configuration
    let logger: Logger
    /// Resolves host names; the system resolver unless a test says otherwise.
    var resolve: @Sendable (String) async throws -> [IPAddress] = RecordingSources.resolve

    /// Downloads `url` into a sink that `makeSink` makes for each attempt, never holding the whole recording.
    func fetch<Sink: RecordingSink>(_ url: String, into makeSink: @Sendable () -> Sink) async throws -> FetchedRecording<Sink> {
        guard let parsed = URL(string: url) else { throw Failure(description: "recording_url: not an http(s) URL (\(url))") }
        var lastError = ""
        for attempt in 1...max(1, configuration.attempts) {
            do {
                return try await fetchOnce(parsed, named: url, into: makeSink)
            } catch let failure as Failure {
                throw failure
            } catch let refusal as RecordingSources.Refusal {
                throw Failure(description: "recording_url: \(refusal)")
            } catch {
                lastError = "\(error)"
                logger.warning("recording download failed", metadata: ["url": "\(url)", "attempt": "\(attempt)", "error": "\(error)"])
                if attempt < configuration.attempts { try await Task.sleep(for: .milliseconds(250 << attempt)) }
            }
        }
        throw Failure(description: "recording_url: could not download \(url) after \(configuration.attempts) attempts: \(lastError)")
    }

    private struct Retryable: Error, CustomStringConvertible { let description: String }

    /// One attempt: the URL and each redirect are checked, then fetched from the address that was checked.
    private func fetchOnce<Sink: RecordingSink>(_ start: URL, named url: String, into makeSink: @Sendable () -> Sink) async throws -> FetchedRecording<Sink> {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(configuration.timeout.components.seconds) * 1_000_000_000)
        var current = start
        for _ in 0...configuration.maximumRedirects {
            let target = try await configuration.sources.target(for: current, resolve: resolve)
            let outcome = try await withPinnedClient(to: target) { client -> Hop<Sink> in
                let response = try await client.execute(HTTPClientRequest(url: target.url.absoluteString), deadline: deadline)
                if (300..<400).contains(response.status.code), let location = response.headers.first(name: "location") {
                    guard let next = URL(string: location, relativeTo: target.url)?.absoluteURL else {
                        throw Failure(description: "recording_url: \(target.url.absoluteString) redirects to an unreadable location")
                    }
                    return .redirect(next)
                }
                return .done(try await read(response, from: target.url, named: url, into: makeSink()))
            }
            switch outcome {
            case .done(let recording): return recording
            case .redirect(let next): current = next
            }
        }
        throw Failure(description: "recording_url: \(url) redirects more than \(configuration.maximumRedirects) times")
    }

    private enum Hop<Sink: RecordingSink>: Sendable {
        case done(FetchedRecording<Sink>)
        case redirect(URL)
    }

    /// A client that connects to `target.address` whatever the name resolves to later (TLS still checks the name),
    /// follows no redirect by itself, and is shut down after `body`.
    private func withPinnedClient<Result: Sendable>(to target: RecordingSources.Target, _ body: (HTTPClient) async throws -> Result) async throws -> Result {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.dnsOverride = [target.host: target.address.description]
        configuration.decompression = .disabled
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        do {
            let result = try await body(client)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// A 2xx response's body into `sink`, chunk by chunk, refusing it once it grows past the largest allowed.
    private func read<Sink: RecordingSink>(_ response: HTTPClientResponse, from source: URL, named url: String, into sink: Sink) async throws -> FetchedRecording<Sink> {
        switch response.status.code {
        case 200..<300:
            break
        case 408, 429, 500...:
            throw Retryable(description: "HTTP \(response.status.code)")
        default:
            throw Failure(description: "recording_url: \(source.absoluteString) answered HTTP \(response.status.code)")
        }
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > configuration.maximumBytes {
            throw Failure(description: "recording_url: \(url) is \(length) bytes, more than the \(configuration.maximumBytes) allowed")
        }
        var sink = sink
        do {
            for try await part in response.body {
                guard sink.size + part.readableBytes <= configuration.maximumBytes else {
                    throw Failure(description: "recording_url: \(url) is more than the \(configuration.maximumBytes) bytes allowed")
                }
                try await sink.append(part)
            }
            try await sink.finish()
        } catch {
            await sink.discard()
            throw error
        }
        return FetchedRecording(url: url, contentType: response.headers.first(name: "content-type"), sink: sink)
    }
}
