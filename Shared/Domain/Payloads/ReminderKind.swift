/// What a reminder is about.
public enum ReminderKind: String, ContractEnum {
    /// A patient reminder (vaccination, check-up): reason PATIENT_REMINDER.
    case patient
    /// An appointment reminder: reason APPOINTMENT_REMINDER.
    case appointment

    /// The reason a reminder of this kind is logged with.
    public var reason: ReasonCode {
        switch self {
        case .patient: .patientReminder
        case .appointment: .appointmentReminder
        }
    }
}
