import Foundation

extension EventDecodingError {
    /// Translates Foundation's `DecodingError`: the coding path becomes a JSON path, the message plain words.
    init(_ error: DecodingError, body: Data? = nil) {
        switch error {
        case .keyNotFound(let key, let context):
            // Foundation's context holds the path of the container, not the missing key.
            self = .required(Self.render(context.codingPath + [key]) ?? key.stringValue)
        case .valueNotFound(_, let context):
            self.init(code: .missingField, field: Self.render(context.codingPath), message: "is required (got null)")
        case .typeMismatch(let type, let context):
            let field = Self.render(context.codingPath)
            let expected = Self.describe(type)
            let got = Self.found(in: context.debugDescription).map { " (got \($0))" } ?? ""
            if field == nil, expected == "an object" {
                self.init(code: .typeMismatch, field: nil, message: "must be a JSON object\(got)")
            } else {
                self.init(code: .typeMismatch, field: field, message: "expected \(expected)\(got)")
            }
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(code: .invalidJSON, field: nil, message: Self.notJSON(body))
            } else {
                self = .invalid(Self.render(context.codingPath), context.debugDescription)
            }
        @unknown default:
            self = .invalid(nil, "\(error)")
        }
    }

    /// Renders a coding path as a JSON path: keys joined by dots, array positions in brackets.
    static func render(_ codingPath: [any CodingKey]) -> String? {
        var result: String?
        for key in codingPath {
            if let index = key.intValue {
                result = (result ?? "") + "[\(index)]"
            } else {
                result = path(result, key.stringValue)
            }
        }
        return result
    }

    /// "not valid JSON", with the parser's reason when one can be had (only on this failure path).
    private static func notJSON(_ body: Data?) -> String {
        guard let body else { return "not valid JSON" }
        if body.isEmpty { return "is empty (expected a JSON object)" }
        do {
            _ = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        } catch {
            if let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String {
                var reason = reason
                if reason.hasSuffix(".") { reason.removeLast() }
                return "not valid JSON (\(reason.prefix(1).lowercased() + reason.dropFirst()))"
            }
        }
        return "not valid JSON"
    }

    /// The expected type in plain words.
    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is any FixedWidthInteger.Type: return "an integer"
        case is any BinaryFloatingPoint.Type, is Decimal.Type: return "a number"
        default:
            let name = "\(type)"
            if name.hasPrefix("Dictionary") { return "an object" }
            if name.hasPrefix("Array") { return "an array" }
            return "a value of type \(name)"
        }
    }

    /// What Foundation found instead ("Expected to decode X but found a string instead."), in plain words.
    private static func found(in debugDescription: String) -> String? {
        guard let start = debugDescription.range(of: "but found "),
            let end = debugDescription.range(of: " instead", range: start.upperBound..<debugDescription.endIndex)
        else { return nil }
        switch debugDescription[start.upperBound..<end.lowerBound] {
        case "a string", "string": return "a string"
        case "number", "a number": return "a number"
        case "bool", "a bool": return "true or false"
        case "a dictionary", "dictionary": return "an object"
        case "an array", "array": return "an array"
        case "null", "null value": return "null"
        case let other: return String(other)
        }
    }
}
