import CommlogDomain
import Foundation
import LogStore
import Metrics

/// Turns the practice software's send events into log entries, as the rules of automatic logging say.
///
/// Pure: the address book and the patients' clients are looked up beforehand, so this is unit-testable.
struct PracticeEntries {
    let addresses: AddressBook
    /// The client of each patient the batch mentions (its events' patients and the patients owning documents).
    let clientOfPatient: [String: String]

    /// The event's patient, unless the directory says it belongs to another client: then none, as OpenVPMS logs
    /// it ("the current patient, or none if … doesn't belong to the customer"), and counted. A patient the
    /// directory does not know (yet) is kept.
    func patient(_ patient: String?, of client: String?) -> String? {
        guard let patient, let client, let owner = clientOfPatient[patient], owner != client else { return patient }
        Counter(label: "commlog_patients_dropped_total").increment()
        return nil
    }

    /// A reminder's description: its type and count, e.g. `Vaccination (reminder 2)`.
    static func reminderDescription(type: String?, count: Int?) -> String? {
        guard let type, !type.isEmpty else { return nil }
        return count.map { "\(type) (reminder \($0))" } ?? type
    }

    /// The entry for a reminder, or nil for a reminder that is phoned or exported (not logged).
    func entry(for envelope: EventEnvelope<ReminderSent>) -> NewCommunication? {
        let data = envelope.data
        guard let type = data.channel.communicationType else { return nil }
        let addressKind: AddressBook.Kind = type == .sms ? .phone : .email
        let address = data.address.map { type == .sms ? ContactAddress.phone($0) ?? $0 : $0 }
        let recipient = data.address.map { addresses.participant(.to, address: $0, kind: addressKind, preferredClient: data.clientID) }
            ?? Participant(role: .to, kind: .client, id: data.clientID)
        let patientID = patient(data.patientID, of: data.clientID)
        return NewCommunication(
            organisationID: envelope.organisationID,
            type: type,
            direction: .outbound,
            occurredAt: envelope.occurredAt,
            clientID: data.clientID,
            patientID: patientID,
            locationID: data.locationID,
            authorStaffID: data.authorStaffID,
            reason: data.reason,
            address: type == .mail ? data.address : address,
            subject: data.subject,
            description: Self.reminderDescription(type: data.reminderType, count: data.reminderCount),
            content: data.content,
            source: .practice,
            sourceRef: envelope.id,
            template: data.template,
            reminderType: data.reminderType,
            reminderCount: data.reminderCount,
            showInPatientHistory: patientID != nil,
            participants: type == .mail ? [Participant(role: .to, kind: .client, id: data.clientID, address: data.address)] : [recipient]
        )
    }

    /// The entry for an email: a forwarded document (client = the documents' owner, wherever it was sent)
    /// or an ad-hoc email; every recipient a participant, attachment names in the notes.
    func entry(for envelope: EventEnvelope<EmailSent>) -> NewCommunication {
        let data = envelope.data
        let documents = data.documents
        let documentClient = documents.lazy.compactMap { document -> String? in
            switch document.owner {
            case .client: document.id
            case .patient: clientOfPatient[document.id]
            }
        }.first
        let documentPatient = documents.first { $0.owner == .patient }?.id
        let clientID = documentClient ?? data.clientID
        var participants = [addresses.participant(.from, address: data.from, kind: .email)]
        for (role, list) in [(ParticipantRole.to, data.to), (.cc, data.cc), (.bcc, data.bcc)] {
            participants += list.map { addresses.participant(role, address: $0, kind: .email, preferredClient: clientID) }
        }
        let matchedClient = participants.first { $0.kind == .client }?.id ?? participants.lazy.compactMap(addresses.client(of:)).first
        let names = data.attachments.map(\.name)
        let patientID = patient(data.patientID ?? documentPatient, of: clientID ?? matchedClient)
        return NewCommunication(
            organisationID: envelope.organisationID,
            type: .email,
            direction: .outbound,
            occurredAt: envelope.occurredAt,
            clientID: clientID ?? matchedClient,
            patientID: patientID,
            locationID: data.locationID,
            authorStaffID: data.authorStaffID,
            reason: data.reason,
            address: (data.to + data.cc + data.bcc).first,
            subject: data.subject,
            notes: names.isEmpty ? nil : "Attachments: \(names.joined(separator: ", "))",
            content: data.bodyText ?? data.bodyHTML.map(HTMLText.plainText),
            source: .practice,
            sourceRef: envelope.id,
            // An email about a patient belongs in its medical history, forwarded document or not.
            showInPatientHistory: patientID != nil,
            participants: participants,
            attachments: data.attachments.map { attachment in
                NewAttachment(
                    name: attachment.name,
                    contentType: attachment.contentType ?? "application/octet-stream",
                    size: attachment.size ?? 0,
                    documentOwner: attachment.document?.owner,
                    documentID: attachment.document?.id
                )
            },
            // The same message imported from a mailbox is this entry (SameMessage).
            messageID: MessageID.normalised(data.messageID)
        )
    }

    /// The entry for an ad-hoc SMS, with the number normalised and the text kept.
    func entry(for envelope: EventEnvelope<SMSSent>) -> NewCommunication {
        let data = envelope.data
        let recipient = addresses.participant(.to, address: data.to, kind: .phone, preferredClient: data.clientID)
        let clientID = data.clientID ?? addresses.client(of: recipient)
        let patientID = patient(data.patientID, of: clientID)
        return NewCommunication(
            organisationID: envelope.organisationID,
            type: .sms,
            direction: .outbound,
            occurredAt: envelope.occurredAt,
            clientID: clientID,
            patientID: patientID,
            locationID: data.locationID,
            authorStaffID: data.authorStaffID,
            reason: data.reason,
            address: ContactAddress.phone(data.to) ?? data.to,
            content: data.text,
            source: .practice,
            sourceRef: envelope.id,
            showInPatientHistory: patientID != nil,
            participants: [recipient]
        )
    }

    /// A client's SMS: inbound, from the client (or connection) whose number it came from when the event names none.
    func entry(for envelope: EventEnvelope<SMSReceived>) -> NewCommunication {
        let data = envelope.data
        let sender = addresses.participant(.from, address: data.from, kind: .phone, preferredClient: data.clientID)
        let clientID = data.clientID ?? addresses.client(of: sender)
        let patientID = patient(data.patientID, of: clientID)
        var participants = [sender]
        if let to = data.to, !to.isEmpty { participants.append(.external(.to, address: ContactAddress.phone(to) ?? to)) }
        return NewCommunication(
            organisationID: envelope.organisationID,
            type: .sms,
            direction: .inbound,
            occurredAt: envelope.occurredAt,
            clientID: clientID,
            patientID: patientID,
            locationID: data.locationID,
            address: ContactAddress.phone(data.from) ?? data.from,
            content: data.text,
            source: .practice,
            sourceRef: envelope.id,
            showInPatientHistory: patientID != nil,
            participants: participants
        )
    }
}
