#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address, and whether it belongs to the public internet.
struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, in network order.
    let bytes: [UInt8]

    init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Reads an address in its usual text form (`192.0.2.1`, `2001:db8::1`); nil for anything else, names included.
    init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    var isIPv4: Bool { bytes.count == 4 }

    var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = isIPv4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(cString: buffer)
    }

    /// Whether the address is on the public internet: not loopback, private (RFC 1918, ULA), shared (CGNAT),
    /// link-local (where cloud metadata services answer), multicast, reserved or documentation. IPv6 forms
    /// that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that address.
    var isPublic: Bool {
        if isIPv4 { return !Self.nonPublicIPv4.contains { $0.contains(bytes) } }
        if let embedded = embeddedIPv4 { return embedded.isPublic }
        return !Self.nonPublicIPv6.contains { $0.contains(bytes) }
    }

    /// The IPv4 address inside an IPv6 one that carries it, if any.
    private var embeddedIPv4: IPAddress? {
        guard bytes.count == 16 else { return nil }
        let zeroes = bytes[0..<10].allSatisfy { $0 == 0 }
        if zeroes && bytes[10] == 0xff && bytes[11] == 0xff { return IPAddress(bytes: Array(bytes[12..<16])) }  // ::ffff:a.b.c.d
        if zeroes && bytes[10] == 0 && bytes[11] == 0 && bytes[12..<16].contains(where: { $0 != 0 }) {
            // ::a.b.c.d (deprecated compatible form); :: and ::1 themselves are judged as IPv6.
            if bytes[12..<15].allSatisfy({ $0 == 0 }) && bytes[15] <= 1 { return nil }
            return IPAddress(bytes: Array(bytes[12..<16]))
        }
        if Self.nat64.contains(bytes) { return IPAddress(bytes: Array(bytes[12..<16])) }
        if Self.sixToFour.contains(bytes) { return IPAddress(bytes: Array(bytes[2..<6])) }
        return nil
    }

    /// A range of addresses: a prefix and its length in bits.
    struct Network: Sendable {
        let prefix: [UInt8]
        let length: Int

        init(_ text: String) {
            let parts = text.split(separator: "/")
            let address = IPAddress(String(parts[0]))!
            prefix = address.bytes
            length = Int(parts[1])!
        }

        func contains(_ bytes: [UInt8]) -> Bool {
            guard bytes.count == prefix.count else { return false }
            var remaining = length
            for index in prefix.indices where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
                if bytes[index] & mask != prefix[index] & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    private static let nonPublicIPv4 = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
        "240.0.0.0/4",
    ].map(Network.init)

    private static let nonPublicIPv6 = [
        "::/128", "::1/128", "100::/64", "2001::/32", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    ].map(Network.init)

    private static let nat64 = Network("64:ff9b::/96")
    private static let sixToFour = Network("2002::/16")
}
