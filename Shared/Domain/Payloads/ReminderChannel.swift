/// How a reminder went out.
public enum ReminderChannel: String, ContractEnum {
    /// Emailed: logged as an email.
    case email
    /// Sent by SMS: logged as an SMS.
    case sms
    /// Printed and posted: logged as mail.
    case print
    /// Listed to be phoned: not logged.
    case phone
    /// Exported to another system: not logged.
    case export

    /// The type a reminder on this channel is logged as; `nil` when it is not logged (phone, export).
    public var communicationType: CommunicationType? {
        switch self {
        case .email: .email
        case .sms: .sms
        case .print: .mail
        case .phone, .export: nil
        }
    }

    /// Whether a reminder on this channel is logged.
    public var isLogged: Bool { communicationType != nil }
}
