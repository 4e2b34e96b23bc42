import Foundation

/// Addresses as the directory and the matcher compare them: emails trimmed and lower-cased, phone numbers
/// reduced to `+` and digits (E.164 when the number carried its country code).
///
/// Matching national numbers against international ones (libphonenumber, a default region) comes with
/// the call bridge; until then a number matches when written the same way modulo punctuation.
public enum ContactAddress {
    public static func email(_ raw: String) -> String? {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        // "Ann Smith <ann@example.org>" → ann@example.org
        if let open = trimmed.lastIndex(of: "<"), let close = trimmed.lastIndex(of: ">"), open < close {
            let inner = String(trimmed[trimmed.index(after: open)..<close])
            return inner.contains("@") ? inner : nil
        }
        return trimmed.contains("@") ? trimmed : nil
    }

    public static func phone(_ raw: String) -> String? {
        var result = ""
        for character in raw {
            if character.isASCII, character.isNumber {
                result.append(character)
            } else if character == "+", result.isEmpty {
                result.append(character)
            }
        }
        return result.filter(\.isNumber).count >= 3 ? result : nil
    }
}
