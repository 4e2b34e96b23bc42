import Configuration
import PhoneNumbers

extension ProgramConfiguration {
    /// A program's own key as text; nil when not set.
    public func string(_ key: ConfigurationKey) -> String? {
        reader.string(forKey: .init(key), isSecret: key.isSecret)
    }

    /// A program's own key as a positive whole number (its default when not set).
    public func positiveInt(_ key: ConfigurationKey) throws -> Int {
        try reader.positiveInt(key)
    }

    /// A program's own key as a positive whole number; nil when not set (the feature is off).
    public func optionalPositiveInt(_ key: ConfigurationKey) throws -> Int? {
        guard string(key) != nil else { return nil }
        return try reader.positiveInt(key)
    }

    /// A program's own true/false key.
    public func flag(_ key: ConfigurationKey) throws -> Bool {
        try reader.flag(key)
    }

    /// `COMMLOG_PHONE_REGION` upper-cased, checked against libphonenumber's regions; nil when not set.
    public func phoneRegion() throws -> String? {
        guard let region = string(.phoneRegion), !region.isEmpty else { return nil }
        guard PhoneNumber.isSupportedRegion(region) else {
            throw ConfigurationError(key: .phoneRegion, "must be a region libphonenumber knows, e.g. AU, GB, US (got \(region))")
        }
        return region.uppercased()
    }
}
