internal import CPhoneNumber

/// Phone numbers as libphonenumber reads them: any written form to E.164.
public enum PhoneNumber {
    /// The E.164 form of `raw` ("+61412345678"), reading national numbers in `region` (ISO 3166, e.g. "AU");
    /// nil when it is not a possible phone number there (or has no country code and no region is given).
    public static func e164(_ raw: String, region: String? = nil) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let status = buffer.withUnsafeMutableBufferPointer { out in
            commlog_phone_e164(raw, region?.uppercased() ?? "ZZ", out.baseAddress, out.count)
        }
        guard status == 0 else { return nil }
        return String(cString: buffer)
    }

    /// Whether libphonenumber knows `region` (two letters, e.g. "AU").
    public static func isSupportedRegion(_ region: String) -> Bool {
        commlog_phone_region_supported(region.uppercased()) == 1
    }

    /// The country calling code of `region` (44 for "GB") and its national (trunk) prefix ("0" for GB, "" where
    /// numbers have none); nil for a region libphonenumber does not know.
    public static func dialling(region: String) -> (countryCode: Int, nationalPrefix: String)? {
        var prefix = [CChar](repeating: 0, count: 16)
        let countryCode = prefix.withUnsafeMutableBufferPointer { out in
            commlog_phone_region_prefixes(region.uppercased(), out.baseAddress, out.count)
        }
        guard countryCode > 0 else { return nil }
        return (Int(countryCode), String(cString: prefix))
    }

    /// The digits of `raw`, without punctuation or a leading `+`.
    public static func digits(_ raw: String) -> String {
        String(raw.filter { $0.isASCII && $0.isNumber })
    }
}
