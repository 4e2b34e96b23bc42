internal import CLibEtpan
import Foundation

/// How the connection to the IMAP server is secured.
public enum IMAPTLSMode: String, Sendable, CaseIterable {
    /// TLS from the first byte (port 993).
    case implicit
    /// Plain connection upgraded with STARTTLS before login (port 143).
    case starttls
    /// No TLS at all: only for tests against a local server.
    case none
}

/// A folder as LIST reports it.
public struct IMAPFolder: Sendable, Hashable {
    public let name: String
    /// Flags such as `\Sent`, `\HasNoChildren`, `\Noselect`.
    public let flags: Set<String>

    public init(name: String, flags: Set<String>) {
        self.name = name
        self.flags = flags
    }

    public var isSelectable: Bool { !flags.contains { $0.lowercased() == "\\noselect" } }
    public func hasFlag(_ flag: String) -> Bool { flags.contains { $0.lowercased() == flag.lowercased() } }
}

/// What SELECT told about a folder.
public struct IMAPFolderStatus: Sendable, Hashable {
    public let uidValidity: UInt32
    public let uidNext: UInt32
    public let exists: UInt32
    /// HIGHESTMODSEQ when the server has CONDSTORE, else nil.
    public let highestModSeq: UInt64?
}

/// A message fetched with `BODY.PEEK[]`: the raw RFC 5322 bytes.
public struct IMAPMessage: Sendable {
    public let uid: UInt32
    public let raw: [UInt8]
    /// INTERNALDATE (when the server received it).
    public let internalDate: Date?
}

/// One libetpan IMAP session. Every call blocks; the session is not thread-safe and must stay on one
/// thread (`IMAPConnection` confines it to a thread of its own).
public final class IMAPSession {
    private let handle: UnsafeMutablePointer<mailimap>
    public private(set) var capabilities: Set<String> = []

    /// - Parameter timeout: network timeout of every command, in seconds.
    public init(timeout: Int = 60) {
        handle = mailimap_new(0, nil)
        mailimap_set_timeout(handle, time_t(timeout))
    }

    deinit {
        mailimap_free(handle)
    }

    /// Connects and, for `.starttls`, upgrades before anything else is said. With TLS, returns the
    /// certificates the server presented (leaf first, DER) for the caller to verify: libetpan does not.
    public func connect(host: String, port: Int, tls: IMAPTLSMode) throws -> [[UInt8]] {
        let port = UInt16(clamping: port)
        switch tls {
        case .implicit:
            try IMAPError.check(commlog_imap_ssl_connect(handle, host, port), "connect to \(host):\(port)", code: .connect, session: nil)
        case .starttls:
            try IMAPError.check(mailimap_socket_connect(handle, host, port), "connect to \(host):\(port)", code: .connect, session: nil)
            try IMAPError.check(commlog_imap_starttls(handle, host), "STARTTLS", code: .connect, session: handle)
        case .none:
            try IMAPError.check(mailimap_socket_connect(handle, host, port), "connect to \(host):\(port)", code: .connect, session: nil)
            return []
        }
        let box = Box<[[UInt8]]>([])
        _ = commlog_imap_peer_certificates(handle, { context, der, length in
            guard let context, let der else { return }
            Box<[[UInt8]]>.from(context).value.append(Array(UnsafeBufferPointer(start: der, count: length)))
        }, box.pointer)
        return box.value
    }

    /// LOGIN with a password, then reads the capabilities.
    public func login(user: String, password: String) throws {
        try IMAPError.check(mailimap_login(handle, user, password), "LOGIN", code: .authentication, session: handle)
        try loadCapabilities()
    }

    /// AUTHENTICATE XOAUTH2 with an OAuth2 access token, then reads the capabilities.
    public func authenticateXOAuth2(user: String, token: String) throws {
        try IMAPError.check(mailimap_oauth2_authenticate(handle, user, token), "AUTHENTICATE XOAUTH2", code: .authentication, session: handle)
        try loadCapabilities()
    }

    public var supportsIdle: Bool { capabilities.contains("IDLE") }
    public var supportsCondstore: Bool { capabilities.contains("CONDSTORE") || capabilities.contains("QRESYNC") }

    private func loadCapabilities() throws {
        let box = Box<Set<String>>([])
        let status = commlog_imap_capabilities(handle, { context, name in
            guard let context, let name else { return }
            Box<Set<String>>.from(context).value.insert(String(cString: name).uppercased())
        }, box.pointer)
        try IMAPError.check(status, "CAPABILITY", session: handle)
        capabilities = box.value
    }

    /// Every folder (LIST "" "*").
    public func folders() throws -> [IMAPFolder] {
        let box = Box<[IMAPFolder]>([])
        let status = commlog_imap_list(handle, { context, name, flags in
            guard let context, let name else { return }
            let flagSet = Set((flags.map { String(cString: $0) } ?? "").split(separator: " ").map(String.init))
            Box<[IMAPFolder]>.from(context).value.append(IMAPFolder(name: String(cString: name), flags: flagSet))
        }, box.pointer)
        try IMAPError.check(status, "LIST", session: handle)
        return box.value
    }

    /// SELECT (with CONDSTORE when the server has it).
    public func select(_ folder: String) throws -> IMAPFolderStatus {
        var validity: UInt32 = 0, next: UInt32 = 0, exists: UInt32 = 0, modseq: UInt64 = 0
        let condstore = supportsCondstore
        try IMAPError.check(commlog_imap_select(handle, folder, condstore ? 1 : 0, &validity, &next, &exists, &modseq), "SELECT \(folder)", session: handle)
        return IMAPFolderStatus(uidValidity: validity, uidNext: next, exists: exists, highestModSeq: condstore && modseq > 0 ? modseq : nil)
    }

    /// UIDs from `first` on (`UID SEARCH UID first:*`), received on or after `since` when given, ascending.
    /// IMAP answers `n:*` with the last message even when its UID is below n: those are filtered out.
    public func uids(from first: UInt32, since: DateComponents? = nil) throws -> [UInt32] {
        try search(from: first, since: since, seenOnly: false)
    }

    /// UIDs of the messages marked `\Seen` (tests check that importing marks nothing read).
    public func seenUIDs() throws -> [UInt32] {
        try search(from: 1, since: nil, seenOnly: true)
    }

    private func search(from first: UInt32, since: DateComponents?, seenOnly: Bool) throws -> [UInt32] {
        let box = Box<[UInt32]>([])
        let status = commlog_imap_search(handle, first, Int32(since?.day ?? 0), Int32(since?.month ?? 0), Int32(since?.year ?? 0), seenOnly ? 1 : 0, { context, uid in
            guard let context else { return }
            Box<[UInt32]>.from(context).value.append(uid)
        }, box.pointer)
        try IMAPError.check(status, "UID SEARCH", session: handle)
        return box.value.filter { $0 >= first }.sorted()
    }

    /// `UID FETCH uids (UID RFC822.SIZE)`: each message's size in bytes.
    public func sizes(_ uids: [UInt32]) throws -> [UInt32: Int] {
        guard !uids.isEmpty else { return [:] }
        let box = Box<[UInt32: Int]>([:])
        let status = uids.withUnsafeBufferPointer { buffer in
            commlog_imap_sizes(handle, buffer.baseAddress, buffer.count, { context, uid, size in
                guard let context else { return }
                Box<[UInt32: Int]>.from(context).value[uid] = Int(size)
            }, box.pointer)
        }
        try IMAPError.check(status, "UID FETCH RFC822.SIZE", session: handle)
        return box.value
    }

    /// `UID FETCH uids (UID INTERNALDATE BODY.PEEK[])`: the raw messages, leaving `\Seen` alone; with
    /// `headersOnly`, `BODY.PEEK[HEADER]`: their header sections only.
    public func fetch(_ uids: [UInt32], headersOnly: Bool = false) throws -> [IMAPMessage] {
        guard !uids.isEmpty else { return [] }
        let box = Box<[IMAPMessage]>([])
        let status = uids.withUnsafeBufferPointer { buffer in
            commlog_imap_fetch(handle, buffer.baseAddress, buffer.count, headersOnly ? 1 : 0, { context, uid, bytes, length, received in
                guard let context else { return }
                let raw = bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
                let date = received == 0 ? nil : Date(timeIntervalSince1970: TimeInterval(received))
                Box<[IMAPMessage]>.from(context).value.append(IMAPMessage(uid: uid, raw: raw, internalDate: date))
            }, box.pointer)
        }
        try IMAPError.check(status, "UID FETCH", session: handle)
        return box.value.sorted { $0.uid < $1.uid }
    }

    /// IDLE for up to `timeout`, or until `interrupt` (an eventfd, see `IMAPConnection.idle`) is signalled:
    /// true when the server reported a change (or anything) before that.
    public func idle(timeout: Duration, interrupt: Int32 = -1) throws -> Bool {
        var woken: Int32 = 0
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        try IMAPError.check(commlog_imap_idle_wait(handle, milliseconds, interrupt, &woken), "IDLE", session: handle)
        return woken == 1
    }

    /// NOOP: keeps the connection alive and collects pending untagged responses.
    public func noop() throws {
        try IMAPError.check(mailimap_noop(handle), "NOOP", session: handle)
    }

    /// APPEND a raw message to `folder` (tests and benchmarks fill mailboxes with it).
    public func append(_ raw: [UInt8], to folder: String) throws {
        let status = raw.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { commlog_imap_append(handle, folder, $0.baseAddress, $0.count) }
        }
        try IMAPError.check(status, "APPEND \(folder)", session: handle)
    }

    /// Marks the messages `\Deleted` and expunges them (in the selected folder).
    public func remove(_ uids: [UInt32]) throws {
        guard !uids.isEmpty else { return }
        let status = uids.withUnsafeBufferPointer { commlog_imap_remove(handle, $0.baseAddress, $0.count) }
        try IMAPError.check(status, "UID STORE \\Deleted + EXPUNGE", session: handle)
    }

    public func create(_ folder: String) throws {
        try IMAPError.check(mailimap_create(handle, folder), "CREATE \(folder)", session: handle)
    }

    public func delete(_ folder: String) throws {
        try IMAPError.check(mailimap_delete(handle, folder), "DELETE \(folder)", session: handle)
    }

    public func logout() {
        _ = mailimap_logout(handle)
    }
}

/// Carries a value through a C callback's context pointer; lives as long as the call that uses it.
private final class Box<Value> {
    var value: Value
    init(_ value: Value) { self.value = value }
    var pointer: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }
    static func from(_ pointer: UnsafeMutableRawPointer) -> Box<Value> { Unmanaged<Box<Value>>.fromOpaque(pointer).takeUnretainedValue() }
}
