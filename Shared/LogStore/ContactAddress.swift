import CommlogDomain
import Foundation
import PhoneNumbers

/// Addresses as the directory and the matcher compare them: emails trimmed and lower-cased, phone numbers
/// in E.164 through libphonenumber when it can read them (international numbers, or national ones given a
/// region), otherwise reduced to `+` and digits.
///
/// National numbers stored without a region are matched by the call bridge on their last digits.
public enum ContactAddress {
    /// The region national numbers are read in: `COMMLOG_PHONE_REGION` (see `ConfigurationKey.phoneRegion`), read
    /// here once so that every program storing or matching numbers (the directory in reminder-logger, the call
    /// bridge) normalises them alike; nil when unset or unknown to libphonenumber.
    public static let defaultRegion: String? = {
        guard let region = ProcessInfo.processInfo.environment["COMMLOG_PHONE_REGION"]?.uppercased(), !region.isEmpty,
              PhoneNumber.isSupportedRegion(region) else { return nil }
        return region
    }()

    public static func email(_ raw: String) -> String? {
        let trimmed = raw.trimmingWhitespace().lowercased()
        // "Ann Smith <ann@example.org>" → ann@example.org
        if let open = trimmed.lastIndex(of: "<"), let close = trimmed.lastIndex(of: ">"), open < close {
            let inner = String(trimmed[trimmed.index(after: open)..<close])
            return inner.contains("@") ? inner : nil
        }
        return trimmed.contains("@") ? trimmed : nil
    }

    /// A phone number in E.164 when it carries its country code or `defaultRegion` is set, otherwise `+` and
    /// digits as written.
    public static func phone(_ raw: String) -> String? {
        phone(raw, region: defaultRegion)
    }

    /// - Parameter region: the ISO 3166 region national numbers are read in (e.g. "AU"); nil reads only
    ///   international numbers through libphonenumber.
    public static func phone(_ raw: String, region: String?) -> String? {
        if let e164 = PhoneNumber.e164(raw, region: region) { return e164 }
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
