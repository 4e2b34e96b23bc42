import Messaging

/// The queues of the Commlog programs. Each consuming program owns its queue; publishers only know routing keys.
public enum CommlogQueues {
    /// reminder-logger: everything the practice software publishes.
    public static let practice = (name: "reminder-logger.practice", bindings: ["practice.#"])
    /// call-bridge: normalised phone call events.
    public static let calls = (name: "call-bridge.calls", bindings: ["phone.call.event"])
    /// call-bridge: recordings to download, handed on by its call consumer (the `phone.call.event` of kind
    /// `recording`, under the queue's own routing key), so that a slow recording delays no call.
    public static let recordings = (name: "call-bridge.recordings", bindings: ["call-bridge.recordings"])
    /// email-ingestor: raw messages fetched from mailboxes.
    public static let mail = (name: "email-ingestor.messages", bindings: ["mail.message.fetched"])
}

extension Infrastructure {
    /// The quorum queue of one of `CommlogQueues`, with this deployment's delivery limit.
    public func queue(_ definition: (name: String, bindings: [String])) -> Topology.Queue {
        queue(definition.name, bindings: definition.bindings)
    }
}
