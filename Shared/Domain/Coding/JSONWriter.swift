import Foundation

/// JSON written straight into bytes, for the hot paths where `JSONEncoder` costs too much.
///
/// `JSONEncoder` first builds a tree of boxed values and then serialises it: encoding the rows it inserts was a
/// third of reminder-logger's CPU, and encoding list pages 43% of query-api's. A caller writes the structure
/// itself (`raw`) and each value with the method for its type; the tests compare what it writes with the
/// `Codable` JSON of the same values.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 1_024) {
        bytes.reserveCapacity(capacity)
    }

    /// Structure and keys, as they are: `{"items":[`.
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func bool(_ value: Bool?) {
        guard let value else { return raw("null") }
        value ? raw("true") : raw("false")
    }

    public mutating func number(_ value: Int?) {
        guard let value else { return raw("null") }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        bytes[start...].reverse()
    }

    /// RFC 3339 in UTC, as the contract writes dates.
    public mutating func date(_ value: Date?) {
        guard let value else { return raw("null") }
        bytes.append(UInt8(ascii: "\""))
        RFC3339.write(value, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Lower-case, as PostgreSQL and the contract write UUIDs.
    public mutating func uuid(_ value: UUID?) {
        guard let value else { return raw("null") }
        let hex: StaticString = "0123456789abcdef"
        bytes.append(UInt8(ascii: "\""))
        withUnsafeBytes(of: value.uuid) { uuid in
            hex.withUTF8Buffer { hex in
                for (index, byte) in uuid.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 { bytes.append(UInt8(ascii: "-")) }
                    bytes.append(hex[Int(byte >> 4)])
                    bytes.append(hex[Int(byte & 0x0F)])
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `[…]`: each element written by `element`, separated by commas.
    public mutating func array<Elements: Sequence>(_ elements: Elements, _ element: (inout JSONWriter, Elements.Element) -> Void) {
        raw("[")
        var first = true
        for value in elements {
            if !first { raw(",") }
            first = false
            element(&self, value)
        }
        raw("]")
    }

    /// `[…]` of values that write themselves.
    public mutating func array(_ elements: some Sequence<some JSONWritable>) {
        array(elements) { json, value in value.write(to: &json) }
    }

    public mutating func string<Value: RawRepresentable<String>>(_ value: Value?) {
        string(value?.rawValue)
    }

    /// A JSON string (RFC 8259): quotes, backslashes and control characters escaped, the rest as UTF-8.
    public mutating func string(_ value: String?) {
        guard var value else { return raw("null") }
        bytes.append(UInt8(ascii: "\""))
        value.withUTF8 { text in
            var start = 0
            for index in text.indices {
                let byte = text[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[start..<index]))
                escape(byte)
                start = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        case 0x08: raw("\\b")
        case 0x0C: raw("\\f")
        default:
            let hex: StaticString = "0123456789abcdef"
            raw("\\u00")
            hex.withUTF8Buffer { hex in
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            }
        }
    }
}

/// A value that writes its own contract JSON with a `JSONWriter` (the same JSON as its `encode(to:)`).
public protocol JSONWritable {
    func write(to json: inout JSONWriter)
}

extension Participant: JSONWritable {
    /// `{"role":…,"kind":…,"id":…,"address":…,"name":…}`, as `encode(to:)` writes it.
    public func write(to json: inout JSONWriter) {
        json.raw("{\"role\":"); json.string(role)
        json.raw(",\"kind\":"); json.string(kind)
        json.raw(",\"id\":"); json.string(id)
        json.raw(",\"address\":"); json.string(address)
        json.raw(",\"name\":"); json.string(name)
        json.raw("}")
    }
}
