/// `practice.directory.patient.upserted`: a patient (an animal, a care recipient) and the client it belongs to.
public struct PatientUpserted: EventPayload, Hashable {
    /// The practice software's id of the patient.
    public let patientID: String
    /// The client the patient belongs to.
    public let clientID: String
    /// The patient's name.
    public let name: String

    /// Creates a patient entry.
    public init(patientID: String, clientID: String, name: String) {
        self.patientID = patientID
        self.clientID = clientID
        self.name = name
    }

    /// Both ids are non-empty.
    public func validate() throws(EventDecodingError) {
        try Check.identifier(patientID, "patient_id")
        try Check.identifier(clientID, "client_id")
    }

    /// Only `practice.directory.patient.upserted` carries it.
    public func isCarried(by type: EventType) -> Bool { type == .patientUpserted }

    enum CodingKeys: String, CodingKey {
        case patientID = "patient_id"
        case clientID = "client_id"
        case name
    }
}
