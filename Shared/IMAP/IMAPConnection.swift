internal import CLibEtpan
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Where and how to log in to an IMAP server.
public struct IMAPAccount: Sendable {
    public enum Credential: Sendable {
        case password(String)
        /// An OAuth2 access token, for `AUTHENTICATE XOAUTH2`.
        case oauth2Token(String)
    }

    public var host: String
    public var port: Int
    public var tls: IMAPTLSMode
    public var user: String
    public var credential: Credential
    /// Network timeout of each command, in seconds.
    public var timeout: Int
    /// Who may vouch for the server's certificate (with TLS).
    public var trust: IMAPTrust

    public init(host: String, port: Int, tls: IMAPTLSMode, user: String, credential: Credential, timeout: Int = 60, trust: IMAPTrust = .system) {
        self.host = host
        self.port = port
        self.tls = tls
        self.user = user
        self.credential = credential
        self.timeout = timeout
        self.trust = trust
    }

    /// Whether `host` is this machine: `localhost`, 127.0.0.0/8 or ::1.
    public static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

/// An `IMAPSession` confined to a thread of its own, so that libetpan's blocking calls never run on
/// Swift's cooperative pool. Tasks hand it work with `perform` and are resumed when the call returns.
public final class IMAPConnection: Sendable {
    private let thread: Confinement
    /// Signalled to end an IDLE early when the waiting task is cancelled (shutdown).
    private let interrupt: Int32

    /// Starts the thread; `open` connects and logs in.
    public init(name: String) {
        thread = Confinement(name: name)
        interrupt = commlog_imap_eventfd()
    }

    deinit {
        thread.stop()
        if interrupt >= 0 { _ = Glibc.close(interrupt) }
    }

    /// SELECTs `folder` and IDLEs there for up to `timeout`; cancelling the task ends the IDLE at once.
    /// Returns nil when the server does not offer IDLE, else whether it reported a change.
    public func idle(in folder: String, timeout: Duration) async throws -> Bool? {
        let interrupt = self.interrupt
        return try await withTaskCancellationHandler {
            try await perform { session -> Bool? in
                guard session.supportsIdle else { return nil }
                _ = try session.select(folder)
                return try session.idle(timeout: timeout, interrupt: interrupt)
            }
        } onCancel: {
            commlog_imap_wake(interrupt)
        }
    }

    /// Connects, verifies the server's certificate (with TLS) and logs in, replacing any previous session.
    /// Nothing secret is sent before the certificate is verified.
    public func open(_ account: IMAPAccount) async throws {
        // Without TLS the password crosses the network in clear: only a server on this machine may be asked so.
        guard account.tls != .none || IMAPAccount.isLoopback(account.host) else {
            throw IMAPError(.connect, "connect to \(account.host) without TLS (tls none is only for a server on this machine)")
        }
        let certificates = try await thread.run { state in
            state.session = nil
            state.connecting = nil
            let session = IMAPSession(timeout: account.timeout)
            let certificates = try session.connect(host: account.host, port: account.port, tls: account.tls)
            state.connecting = session
            return certificates
        }
        if account.tls != .none {
            do {
                try await account.trust.verify(certificates, host: account.host)
            } catch {
                try? await thread.run { state in state.connecting = nil }
                throw error
            }
        }
        try await thread.run { state in
            guard let session = state.connecting else { throw IMAPError(.closed, "login") }
            state.connecting = nil
            switch account.credential {
            case .password(let password): try session.login(user: account.user, password: password)
            case .oauth2Token(let token): try session.authenticateXOAuth2(user: account.user, token: token)
            }
            state.session = session
        }
    }

    /// Runs `body` with the session on the connection's thread.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (IMAPSession) throws -> T) async throws -> T {
        try await thread.run { state in
            guard let session = state.session else { throw IMAPError(.closed, "command") }
            do {
                return try body(session)
            } catch let error as IMAPError where error.code != .closed && error.isConnectionLost {
                // The stream is in an unknown state: the next use reconnects. (After NO or BAD it carries on.)
                state.session = nil
                throw error
            }
        }
    }

    /// Whether a session is open (a failed command drops it).
    public func isOpen() async -> Bool {
        (try? await thread.run { state in state.session != nil }) ?? false
    }

    /// Logs out and drops the session.
    public func close() async {
        _ = try? await thread.run { state in
            state.session?.logout()
            state.session = nil
        }
    }
}

/// A thread that runs jobs one at a time, owning the state they share.
private final class Confinement: Sendable {
    final class State {
        var session: IMAPSession?
        /// Connected, its certificate being verified, not yet logged in.
        var connecting: IMAPSession?
    }

    private struct Queue: ~Copyable {
        var jobs: [@Sendable (State) -> Void] = []
        var stopped = false
    }

    /// What the thread and the callers share (the thread must not keep the `Confinement` alive).
    private final class Jobs: Sendable {
        let queue = Mutex(Queue())
        let signal = DispatchSemaphore(value: 0)
    }

    private let jobs = Jobs()

    init(name: String) {
        let thread = Thread { [jobs] in
            let state = State()
            while true {
                jobs.signal.wait()
                let job: (@Sendable (State) -> Void)? = jobs.queue.withLock { queue in
                    queue.jobs.isEmpty ? nil : queue.jobs.removeFirst()
                }
                if let job {
                    job(state)
                } else if jobs.queue.withLock({ $0.stopped }) {
                    state.session = nil
                    return
                }
            }
        }
        thread.name = name
        thread.start()
    }

    func stop() {
        jobs.queue.withLock { $0.stopped = true }
        jobs.signal.signal()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (State) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = jobs.queue.withLock { queue -> Bool in
                guard !queue.stopped else { return false }
                queue.jobs.append { state in continuation.resume(with: Result { try body(state) }) }
                return true
            }
            if accepted { jobs.signal.signal() } else { continuation.resume(throwing: IMAPError(.closed, "command")) }
        }
    }
}
