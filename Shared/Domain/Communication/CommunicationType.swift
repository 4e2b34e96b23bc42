/// What kind of communication an entry records.
public enum CommunicationType: String, ContractEnum {
    /// An email, sent or received.
    case email
    /// A text message.
    case sms
    /// A phone call; open until a staff member ends it.
    case phone
    /// A printed letter.
    case mail
    /// A note written by staff; it has no direction.
    case note
}
