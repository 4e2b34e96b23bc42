import Foundation

/// Which options of the PBX's SMDR Options form are on: each changes the record's columns.
///
/// Stored as the link's `layout` (jsonb): `{"extended_digits": true, "ani_dnis": true, "network_format": false}`,
/// as `commlog smdr add --layout` writes it.
struct SMDRLayout: Codable, Hashable, Sendable {
    /// Extended digit length: party fields are 7 characters wide instead of 4.
    var extendedDigits = false
    /// ANI/DNIS reporting: the caller's number (ANI) and the number dialled (DNIS) follow the standard fields.
    var aniDNIS = false
    /// Network format: a call identifier (and sequence) follow, which tie the records of one call together.
    var networkFormat = false

    enum CodingKeys: String, CodingKey {
        case extendedDigits = "extended_digits"
        case aniDNIS = "ani_dnis"
        case networkFormat = "network_format"
    }

    init(extendedDigits: Bool = false, aniDNIS: Bool = false, networkFormat: Bool = false) {
        self.extendedDigits = extendedDigits
        self.aniDNIS = aniDNIS
        self.networkFormat = networkFormat
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        extendedDigits = try container.decodeIfPresent(Bool.self, forKey: .extendedDigits) ?? false
        aniDNIS = try container.decodeIfPresent(Bool.self, forKey: .aniDNIS) ?? false
        networkFormat = try container.decodeIfPresent(Bool.self, forKey: .networkFormat) ?? false
    }

    // MARK: Columns (0-based offsets in the line)

    /// Width of a party field (calling, called, third party).
    var partyWidth: Int { extendedDigits ? 7 : 4 }

    struct Field: Equatable, Sendable {
        let offset: Int
        let width: Int
    }

    var longCall: Field { Field(offset: 0, width: 1) }
    var date: Field { Field(offset: 1, width: 5) }
    var startTime: Field { Field(offset: 7, width: 6) }
    var duration: Field { Field(offset: 14, width: 8) }
    var callingParty: Field { Field(offset: 23, width: partyWidth) }
    var attendant: Field { Field(offset: callingParty.offset + partyWidth + 1, width: 1) }
    var timeToAnswer: Field { Field(offset: attendant.offset + 1, width: 3) }
    var digitsDialed: Field { Field(offset: timeToAnswer.offset + 4, width: 26) }
    var completion: Field { Field(offset: digitsDialed.offset + digitsDialed.width, width: 1) }
    var forwardFlag: Field { Field(offset: completion.offset + 1, width: 1) }
    var calledParty: Field { Field(offset: forwardFlag.offset + 1, width: partyWidth) }
    var transfer: Field { Field(offset: calledParty.offset + partyWidth, width: 1) }
    var thirdParty: Field { Field(offset: transfer.offset + 1, width: partyWidth) }
    var accountCode: Field { Field(offset: thirdParty.offset + partyWidth + 1, width: 12) }
    var systemID: Field { Field(offset: accountCode.offset + 12 + 1, width: 3) }
    /// Where the optional parts start: the standard record is this long (90; 101 with extended digits).
    var standardLength: Int { systemID.offset + systemID.width + (extendedDigits ? 5 : 3) }
    var ani: Field { Field(offset: standardLength + 1, width: 10) }
    var dnis: Field { Field(offset: ani.offset + 10 + 1, width: 10) }
    var callID: Field { Field(offset: (aniDNIS ? dnis.offset + 10 : standardLength) + 1, width: 10) }
    /// Length of a whole record with the options on.
    var recordLength: Int { networkFormat ? callID.offset + callID.width : aniDNIS ? dnis.offset + dnis.width : standardLength }
}
