import Foundation
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where call recordings may be downloaded from.
///
/// A recording URL comes from whoever holds a webhook secret, so it is hostile until checked: the host must be
/// allowed (`COMMLOG_RECORDING_HOSTS`), its name is resolved here, and every address it resolves to must be public
/// unless the operator named that very host. The download then connects to the address that was checked (the
/// name is not resolved again, so a second DNS answer cannot point it elsewhere), and each redirect is checked
/// the same way before it is followed.
struct RecordingSources: Sendable {
    /// Hosts recordings may come from (`.example.org` also admits its subdomains); nil: any host with public addresses.
    /// A host named exactly (not through a `.domain` entry) may also resolve to private or loopback addresses:
    /// that is how an operator allows a recording server of their own network (`127.0.0.1` for `make run`).
    var allowedHosts: [String]?

    /// A URL that passed the checks, and the address to connect to for it.
    struct Target: Sendable, Equatable {
        let url: URL
        let host: String
        let address: IPAddress
    }

    /// Whether `host` may be asked at all.
    func allows(_ host: String) -> Bool {
        guard let allowedHosts else { return true }
        let host = Self.normalised(host)
        return allowedHosts.contains { allowed in
            allowed.hasPrefix(".") ? host.hasSuffix(allowed) || host == String(allowed.dropFirst()) : host == allowed
        }
    }

    /// Whether `host` was named exactly by the operator, which admits addresses that are not public.
    func names(_ host: String) -> Bool {
        allowedHosts?.contains(Self.normalised(host)) ?? false
    }

    /// Checks `url` and resolves its host: a `Refusal` when it may never be fetched, `Unresolved` when its name
    /// has no address now (worth another attempt).
    func target(for url: URL, resolve: @Sendable (String) async throws -> [IPAddress] = Self.resolve) async throws -> Target {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw Refusal("not an http(s) URL (\(url.absoluteString))")
        }
        let host = Self.normalised(url.host ?? "")
        guard !host.isEmpty else { throw Refusal("\(url.absoluteString) has no host") }
        guard allows(host) else {
            throw Refusal("\(host) is not a host recordings may come from (COMMLOG_RECORDING_HOSTS)")
        }
        let addresses: [IPAddress]
        if let literal = IPAddress(host) { addresses = [literal] } else { addresses = try await resolve(host) }
        guard let first = addresses.first else { throw Unresolved(description: "\(host) has no address") }
        if !names(host), let inside = addresses.first(where: { !$0.isPublic }) {
            throw Refusal("\(host) resolves to \(inside), which is not a public address (name the host in COMMLOG_RECORDING_HOSTS to allow it)")
        }
        return Target(url: url, host: host, address: first)
    }

    /// A URL that may never be fetched.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// A host name without an address now.
    struct Unresolved: Error, CustomStringConvertible {
        let description: String
    }

    /// Lower case, without the brackets of an IPv6 literal and without a trailing dot.
    static func normalised(_ host: String) -> String {
        var host = host.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        while host.hasSuffix(".") { host.removeLast() }
        return host
    }

    /// The addresses the system resolver gives for `host`, on NIO's thread pool (getaddrinfo blocks).
    @Sendable static func resolve(_ host: String) async throws -> [IPAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, nil, &hints, &list)
            guard status == 0, let list else {
                throw Unresolved(description: "\(host) could not be resolved (\(String(cString: gai_strerror(status))))")
            }
            defer { freeaddrinfo(list) }
            var addresses: [IPAddress] = []
            var entry: UnsafeMutablePointer<addrinfo>? = list
            while let current = entry {
                if let address = current.pointee.ai_addr {
                    switch Int32(address.pointee.sa_family) {
                    case AF_INET:
                        address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                            var raw = $0.pointee.sin_addr
                            IPAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) }).map { addresses.append($0) }
                        }
                    case AF_INET6:
                        address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                            var raw = $0.pointee.sin6_addr
                            IPAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) }).map { addresses.append($0) }
                        }
                    default:
                        break
                    }
                }
                entry = current.pointee.ai_next
            }
            return addresses
        }
    }
}
