import Foundation
import Testing

@testable import CommlogDomain

/// `docs/asyncapi.json` and the Swift contract types agree: every event type is documented, every example
/// decodes, and what the schemas call required, nullable or enumerated is what the decoders require, accept
/// and allow.
@Suite struct AsyncAPIDocumentTests {
    // MARK: - Channels and messages

    @Test func documentLoads() throws {
        let document = try AsyncAPIDocument.loaded.get()
        #expect(document.root["asyncapi"] as? String == "2.6.0")
        let info = try #require(document.root["info"] as? [String: Any])
        #expect(info["title"] as? String == "Commlog events")
        #expect(info["version"] as? String == "1.0.0")
        // The parameterized tests below get their cases from the document: none would mean nothing was checked.
        #expect(!AsyncAPIDocument.examples.isEmpty)
        #expect(!AsyncAPIDocument.requiredFields.isEmpty)
        #expect(!AsyncAPIDocument.optionalFields.isEmpty)
        #expect(!AsyncAPIDocument.enumeratedFields.isEmpty)
    }

    @Test func channelsAreTheEventTypes() throws {
        let document = try AsyncAPIDocument.loaded.get()
        #expect(Set(document.channels.keys) == Set(EventType.allCases.map(\.rawValue)))
    }

    @Test func messagesAreTheEventTypes() throws {
        let document = try AsyncAPIDocument.loaded.get()
        let names = document.messages.values.compactMap { $0["name"] as? String }
        #expect(names.count == document.messages.count, "every message has a name")
        #expect(names.sorted() == EventType.allCases.map(\.rawValue).sorted())
        // Keyed by the Swift case name: `reminderSent` for `practice.reminder.sent`.
        #expect(Set(document.messages.keys) == Set(EventType.allCases.map { "\($0)" }))
    }

    /// Each channel is bound to `commlog.events`, and its operations carry the message of its own event type.
    @Test(arguments: EventType.allCases)
    func channel(of type: EventType) throws {
        let document = try AsyncAPIDocument.loaded.get()
        let channel = try #require(document.channels[type.rawValue], "no channel \(type.rawValue)")

        let amqp = try #require((channel["bindings"] as? [String: Any])?["amqp"] as? [String: Any])
        #expect(amqp["is"] as? String == "routingKey")
        let exchange = try #require(amqp["exchange"] as? [String: Any])
        #expect(exchange["name"] as? String == "commlog.events")
        #expect(exchange["type"] as? String == "topic")
        #expect(exchange["durable"] as? Bool == true)

        let operations = ["publish", "subscribe"].filter { channel[$0] != nil }
        #expect(operations == Self.expectedOperations(type), "operations of \(type.rawValue)")
        for name in operations {
            let operation = try #require(channel[name] as? [String: Any])
            let reference = try #require((operation["message"] as? [String: Any])?["$ref"] as? String)
            #expect(reference == "#/components/messages/\(type)")
            let message = try #require(document.resolve(reference) as? [String: Any], "\(reference) resolves")
            #expect(message["name"] as? String == type.rawValue)
        }
    }

    /// JSON messages: the envelope plus the data schema, `type` fixed to the routing key, and examples.
    @Test(arguments: EventType.allCases.filter(\.hasJSONEnvelope))
    func jsonMessage(of type: EventType) throws {
        let document = try AsyncAPIDocument.loaded.get()
        let message = try #require(document.messages["\(type)"])
        #expect(message["contentType"] as? String == "application/json")
        let parts = try #require((message["payload"] as? [String: Any])?["allOf"] as? [[String: Any]])
        #expect(parts.contains { $0["$ref"] as? String == "#/components/schemas/Envelope" })
        let properties = parts.compactMap { $0["properties"] as? [String: Any] }
        #expect(properties.contains { ($0["type"] as? [String: Any])?["const"] as? String == type.rawValue })
        let dataReferences = properties.compactMap { ($0["data"] as? [String: Any])?["$ref"] as? String }
        #expect(dataReferences.count == 1, "the payload refers to one data schema")
        let dataReference = try #require(dataReferences.first)
        #expect(dataReference.hasPrefix("#/components/schemas/"))
        #expect(document.resolve(dataReference) is [String: Any], "\(dataReference) resolves")
        let examples = try #require(message["examples"] as? [[String: Any]])
        #expect(!examples.isEmpty, "\(type.rawValue) has an example")
    }

    /// `mail.message.fetched` is raw RFC 5322 with its metadata in (planned) AMQP headers, and no envelope.
    @Test func mailMessageFetched() throws {
        let document = try AsyncAPIDocument.loaded.get()
        let message = try #require(document.messages["\(EventType.mailMessageFetched)"])
        let payload = try #require(message["payload"] as? [String: Any])
        #expect(payload.count == 2)
        #expect(payload["type"] as? String == "string")
        #expect(payload["contentMediaType"] as? String == "message/rfc822")
        let headers = try #require(message["headers"] as? [String: Any])
        let headerSchemas = document.flatten(headers)
        let headerNames = Set(headerSchemas.flatMap { ($0["properties"] as? [String: Any] ?? [:]).keys })
        #expect(headerNames == ["x-organisation-id", "x-mailbox-id", "x-folder", "x-direction", "x-uid", "x-uidvalidity"])

        let example = try #require((message["examples"] as? [[String: Any]])?.first?["payload"] as? String)
        do {
            let event = try InboundEvent.decode(Data(example.utf8), routingKey: EventType.mailMessageFetched.routingKey)
            Issue.record("decoded a raw message as \(event.type)")
        } catch {
            #expect(error.code == .unsupportedEventType)
        }
    }

    // MARK: - Examples

    /// Every example decodes, with its channel as the routing key, to an event of that channel's type.
    @Test(arguments: AsyncAPIDocument.examples)
    func exampleDecodes(_ example: AsyncAPIExample) throws {
        let event = try InboundEvent.decode(example.body, routingKey: example.channel)
        #expect(event.type.rawValue == example.channel)
    }

    /// What `encoded()` writes of a decoded example decodes to the same event.
    @Test(arguments: AsyncAPIDocument.examples)
    func exampleRoundTrips(_ example: AsyncAPIExample) throws {
        let event = try InboundEvent.decode(example.body, routingKey: example.channel)
        let again = try InboundEvent.decode(try event.encoded(), routingKey: example.channel)
        #expect(again == event)
    }

    // MARK: - Required, optional and nullable fields

    /// Without a field the schema requires, decoding fails at that field (`data.client_id`, or `id` for the envelope).
    @Test(arguments: AsyncAPIDocument.requiredFields)
    func requiredFieldMissing(_ field: AsyncAPIFieldCase) throws {
        let body = try field.body { $0.removing(field.path) }
        do {
            _ = try InboundEvent.decode(body, routingKey: field.example.channel)
            Issue.record("decoded without \(field.field), which the schema requires")
        } catch {
            #expect(error.field == field.field)
            #expect(error.code == .missingField)
        }
    }

    /// Without a field the schema does not require, decoding succeeds (unless a conditional rule of the
    /// schema, listed in `conditionallyRequired`, requires it in this example, when it fails at that field).
    @Test(arguments: AsyncAPIDocument.optionalFields)
    func optionalFieldMissing(_ field: AsyncAPIFieldCase) throws {
        let body = try field.body { $0.removing(field.path) }
        try expectAccepted(body, field, "without")
    }

    /// A field may be null exactly when its schema's type includes `"null"` (the decoders read every optional
    /// field with `decodeIfPresent`, so an optional field whose schema refuses null would disagree with them).
    @Test(arguments: AsyncAPIDocument.requiredFields + AsyncAPIDocument.optionalFields)
    func fieldNull(_ field: AsyncAPIFieldCase) throws {
        let document = try AsyncAPIDocument.loaded.get()
        let nullable = document.allowsNull(field.schemas)
        let body = try field.body { $0.replacing(field.path, with: NSNull()) }
        if nullable {
            try expectAccepted(body, field, "with null")
        } else {
            do {
                _ = try InboundEvent.decode(body, routingKey: field.example.channel)
                Issue.record("decoded with \(field.field) null, which the schema does not allow")
            } catch {
                #expect(error.field == field.field)
                #expect(error.code == .missingField)
            }
        }
    }

    /// Fields the schemas make required only under a condition (an `anyOf`, an `if`/`then`), by routing key.
    static let conditionallyRequired: [String: Set<String>] = [
        // At least one recipient in to, cc or bcc.
        EventType.emailSent.rawValue: ["data.to", "data.cc", "data.bcc"],
        // A recording event has its URL.
        EventType.phoneCallEvent.rawValue: ["data.recording_url"],
    ]

    private func expectAccepted(
        _ body: Data,
        _ field: AsyncAPIFieldCase,
        _ change: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let conditional = Self.conditionallyRequired[field.example.channel, default: []].contains(field.field)
        do {
            let event = try InboundEvent.decode(body, routingKey: field.example.channel)
            #expect(event.type.rawValue == field.example.channel, sourceLocation: sourceLocation)
        } catch {
            if conditional {
                #expect(error.field == field.field, sourceLocation: sourceLocation)
            } else {
                Issue.record("refused \(change) \(field.field): \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    // MARK: - Enumerations

    /// The Swift enum behind every `enum` of the document's schemas, by schema name and JSON pointer.
    static let swiftEnums: [String: [String]] = [
        "Envelope/properties/type": EventType.allCases.filter(\.hasJSONEnvelope).map(\.rawValue),
        "ReminderSent/properties/channel": ReminderChannel.allCases.map(\.rawValue),
        "ReminderSent/properties/kind": ReminderKind.allCases.map(\.rawValue),
        "EmailAttachment/properties/document/properties/owner": DocumentOwner.allCases.map(\.rawValue),
        "StaffUpserted/properties/roles/items": StaffRole.allCases.map(\.rawValue),
        "PhoneCallEvent/properties/kind": CallKind.allCases.map(\.rawValue),
        "PhoneCallEvent/properties/direction": Direction.allCases.map(\.rawValue),
        "PhoneCallEvent/properties/outcome": CallOutcome.allCases.map(\.rawValue),
        "CommunicationChanged/properties/type": CommunicationType.allCases.map(\.rawValue),
        "CommunicationChanged/properties/status": CommunicationStatus.allCases.map(\.rawValue),
        "MailMessageFetchedHeaders/properties/x-direction": Direction.allCases.map(\.rawValue),
    ]

    @Test func everyEnumHasItsSwiftEnum() throws {
        let document = try AsyncAPIDocument.loaded.get()
        #expect(Set(document.enums.keys) == Set(Self.swiftEnums.keys))
    }

    /// An enum's values are the Swift enum's raw values, in `allCases` order; null is among them exactly
    /// when the schema's type allows null.
    @Test(arguments: swiftEnums.keys.sorted())
    func enumValues(location: String) throws {
        let document = try AsyncAPIDocument.loaded.get()
        let schema = try #require(document.enums[location], "no enum at \(location)")
        let values = try #require(schema["enum"] as? [Any])
        #expect(values.compactMap { $0 as? String } == Self.swiftEnums[location])
        #expect(values.allSatisfy { $0 is String || $0 is NSNull })
        #expect(values.contains { $0 is NSNull } == document.allowsNull([schema]))
    }

    /// A value outside an example field's enum is refused at that field.
    @Test(arguments: AsyncAPIDocument.enumeratedFields)
    func enumValueOutside(_ field: AsyncAPIFieldCase) throws {
        let body = try field.body { $0.replacing(field.path, with: "not-a-value") }
        do {
            _ = try InboundEvent.decode(body, routingKey: field.example.channel)
            Issue.record("decoded \(field.field) \"not-a-value\", which the schema's enum does not allow")
        } catch {
            #expect(error.field == field.field)
            let expected: EventDecodingError.Code = field.field == "type" ? .unknownEventType : .invalidValue
            #expect(error.code == expected)
        }
    }

    // MARK: -

    /// The operations of a channel, from Commlog's point of view: AsyncAPI 2's `publish` is what Commlog
    /// receives, `subscribe` what it sends.
    static func expectedOperations(_ type: EventType) -> [String] {
        switch type {
        case .communicationLogged, .communicationUpdated: ["subscribe"]
        case .phoneCallEvent, .mailMessageFetched: ["publish", "subscribe"]
        default: ["publish"]
        }
    }
}

// MARK: - The document

/// One step of a JSON path: an object key or an array position.
enum AsyncAPIPathStep: Sendable, Hashable {
    case key(String)
    case index(Int)

    /// The path as `EventDecodingError.field` writes it: `data.attachments[0].name`.
    static func render(_ path: [AsyncAPIPathStep]) -> String {
        var result = ""
        for step in path {
            switch step {
            case .key(let key): result += result.isEmpty ? key : "." + key
            case .index(let index): result += "[\(index)]"
            }
        }
        return result
    }
}

/// An example of a JSON message, as the body a consumer would receive.
struct AsyncAPIExample: Sendable, CustomTestStringConvertible {
    /// The channel (routing key).
    let channel: String
    /// The key of the message in `components.messages`.
    let message: String
    /// Its position among the message's examples, from 1.
    let number: Int
    /// The example's payload as JSON.
    let body: Data

    var testDescription: String { "\(channel) example \(number)" }
}

/// A field of an example, with the schemas that apply to it.
struct AsyncAPIFieldCase: @unchecked Sendable, CustomTestStringConvertible {
    let example: AsyncAPIExample
    let path: [AsyncAPIPathStep]
    /// The schemas of the field (after `$ref` and `allOf`); JSON objects, immutable once read.
    let schemas: [[String: Any]]

    /// The field as `EventDecodingError.field` names it.
    var field: String { AsyncAPIPathStep.render(path) }

    var testDescription: String { "\(example.testDescription): \(field)" }

    /// The example's body changed by `change`.
    func body(_ change: (AsyncAPIJSON) -> AsyncAPIJSON) throws -> Data {
        let value = try JSONSerialization.jsonObject(with: example.body, options: [.fragmentsAllowed])
        return try JSONSerialization.data(withJSONObject: change(AsyncAPIJSON(value)).value, options: [.fragmentsAllowed])
    }
}

/// A JSON value as JSONSerialization reads it, with path edits.
struct AsyncAPIJSON {
    let value: Any

    init(_ value: Any) {
        self.value = value
    }

    /// The value without the object member at `path`.
    func removing(_ path: [AsyncAPIPathStep]) -> AsyncAPIJSON {
        AsyncAPIJSON(Self.edit(value, path[...], nil))
    }

    /// The value with `newValue` at `path`.
    func replacing(_ path: [AsyncAPIPathStep], with newValue: Any) -> AsyncAPIJSON {
        AsyncAPIJSON(Self.edit(value, path[...], newValue))
    }

    private static func edit(_ value: Any, _ path: ArraySlice<AsyncAPIPathStep>, _ newValue: Any?) -> Any {
        guard let step = path.first else { return newValue ?? value }
        let rest = path.dropFirst()
        switch step {
        case .key(let key):
            guard var object = value as? [String: Any] else { return value }
            if rest.isEmpty {
                object[key] = newValue
            } else if let member = object[key] {
                object[key] = edit(member, rest, newValue)
            }
            return object
        case .index(let index):
            guard var array = value as? [Any], array.indices.contains(index) else { return value }
            if rest.isEmpty, newValue == nil {
                array.remove(at: index)
            } else {
                array[index] = edit(array[index], rest, newValue)
            }
            return array
        }
    }
}

/// `docs/asyncapi.json`, read with JSONSerialization, and the test cases drawn from it.
struct AsyncAPIDocument: @unchecked Sendable {
    /// The whole document; immutable once read.
    let root: [String: Any]

    /// The document, found by walking up from this file to a directory that has `docs/asyncapi.json`.
    static let loaded = Result { try AsyncAPIDocument(contentsOf: try locate()) }

    struct NotFound: Error, CustomStringConvertible {
        let start: String
        var description: String { "no docs/asyncapi.json in \(start) or any directory above it" }
    }

    static func locate(from file: String = #filePath) throws -> URL {
        var directory = URL(fileURLWithPath: file).deletingLastPathComponent()
        while true {
            let candidate = directory.appendingPathComponent("docs").appendingPathComponent("asyncapi.json")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { throw NotFound(start: file) }
            directory = parent
        }
    }

    init(contentsOf url: URL) throws {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let root = object as? [String: Any] else { throw CocoaError(.propertyListReadCorrupt) }
        self.root = root
    }

    var channels: [String: [String: Any]] {
        (root["channels"] as? [String: Any] ?? [:]).compactMapValues { $0 as? [String: Any] }
    }

    var messages: [String: [String: Any]] {
        ((root["components"] as? [String: Any])?["messages"] as? [String: Any] ?? [:]).compactMapValues { $0 as? [String: Any] }
    }

    var schemas: [String: Any] {
        (root["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
    }

    /// The value a local reference (`#/components/schemas/Envelope`) points to.
    func resolve(_ reference: String) -> Any? {
        guard reference.hasPrefix("#/") else { return nil }
        var value: Any = root
        for token in reference.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let object = value as? [String: Any], let member = object[key] {
                value = member
            } else if let array = value as? [Any], let index = Int(key), array.indices.contains(index) {
                value = array[index]
            } else {
                return nil
            }
        }
        return value
    }

    /// A schema and, through `$ref` and `allOf`, every schema it is made of (`if`/`then`/`anyOf` left aside).
    func flatten(_ schema: [String: Any]) -> [[String: Any]] {
        if let reference = schema["$ref"] as? String {
            // Draft-07: a `$ref` replaces its siblings.
            guard let target = resolve(reference) as? [String: Any] else { return [] }
            return flatten(target)
        }
        let parts = schema["allOf"] as? [[String: Any]] ?? []
        return [schema] + parts.flatMap(flatten)
    }

    /// Whether every one of `schemas` lets the value be null (`"type": [..., "null"]`, or no type at all).
    func allowsNull(_ schemas: [[String: Any]]) -> Bool {
        schemas.allSatisfy { schema in
            switch schema["type"] {
            case let type as String: type == "null"
            case let types as [String]: types.contains("null")
            default: true
            }
        }
    }

    /// Every schema under `components.schemas` that has an `enum`, by schema name and JSON pointer.
    var enums: [String: [String: Any]] {
        var found: [String: [String: Any]] = [:]
        func visit(_ value: Any, _ location: String) {
            if let object = value as? [String: Any] {
                if object["enum"] != nil { found[location] = object }
                for (key, member) in object { visit(member, location + "/" + key) }
            } else if let array = value as? [Any] {
                for (index, member) in array.enumerated() { visit(member, location + "/\(index)") }
            }
        }
        for (name, schema) in schemas { visit(schema, name) }
        return found
    }

    // MARK: Cases

    /// A value of an example, with its path and the schemas that apply to it.
    struct Node {
        let path: [AsyncAPIPathStep]
        let value: Any
        let schemas: [[String: Any]]
    }

    /// Every value of `value` that a schema describes, depth first, from `value` itself.
    func nodes(of value: Any, schemas: [[String: Any]], at path: [AsyncAPIPathStep] = []) -> [Node] {
        var result = [Node(path: path, value: value, schemas: schemas)]
        if let object = value as? [String: Any] {
            for key in object.keys.sorted() {
                let member = schemas.compactMap { ($0["properties"] as? [String: Any])?[key] as? [String: Any] }
                guard !member.isEmpty, let memberValue = object[key] else { continue }
                result += nodes(of: memberValue, schemas: member.flatMap(flatten), at: path + [.key(key)])
            }
        } else if let array = value as? [Any] {
            let items = schemas.compactMap { $0["items"] as? [String: Any] }.flatMap(flatten)
            guard !items.isEmpty else { return result }
            for (index, element) in array.enumerated() {
                result += nodes(of: element, schemas: items, at: path + [.index(index)])
            }
        }
        return result
    }

    /// The examples of the JSON messages (all but `mail.message.fetched`), with their channel.
    var exampleCases: [(AsyncAPIExample, Node)] {
        var result: [(AsyncAPIExample, Node)] = []
        for (channelName, channel) in channels.sorted(by: { $0.key < $1.key }) {
            guard EventType(rawValue: channelName)?.hasJSONEnvelope ?? true else { continue }
            let references = Set(["publish", "subscribe"].compactMap {
                ((channel[$0] as? [String: Any])?["message"] as? [String: Any])?["$ref"] as? String
            })
            for reference in references.sorted() {
                guard let message = resolve(reference) as? [String: Any],
                    let payload = message["payload"] as? [String: Any],
                    let examples = message["examples"] as? [[String: Any]]
                else { continue }
                let payloadSchemas = flatten(payload)
                for (index, example) in examples.enumerated() {
                    guard let value = example["payload"],
                        let body = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])
                    else { continue }
                    let name = String(reference.split(separator: "/").last ?? "")
                    let exampleCase = AsyncAPIExample(channel: channelName, message: name, number: index + 1, body: body)
                    result.append((exampleCase, Node(path: [], value: value, schemas: payloadSchemas)))
                }
            }
        }
        return result
    }

    /// The object members of the examples, each as required or not by its object's schemas.
    private func members(required: Bool) -> [AsyncAPIFieldCase] {
        exampleCases.flatMap { example, root in
            nodes(of: root.value, schemas: root.schemas).flatMap { node -> [AsyncAPIFieldCase] in
                guard let object = node.value as? [String: Any] else { return [] }
                let requiredNames = Set(node.schemas.flatMap { $0["required"] as? [String] ?? [] })
                let described = Set(node.schemas.flatMap { ($0["properties"] as? [String: Any] ?? [:]).keys })
                return object.keys.sorted().compactMap { key in
                    guard described.contains(key), requiredNames.contains(key) == required else { return nil }
                    let memberSchemas = node.schemas
                        .compactMap { ($0["properties"] as? [String: Any])?[key] as? [String: Any] }
                        .flatMap(flatten)
                    return AsyncAPIFieldCase(example: example, path: node.path + [.key(key)], schemas: memberSchemas)
                }
            }
        }
    }

    private static var document: AsyncAPIDocument? { try? loaded.get() }

    /// Every example of a JSON message.
    static let examples: [AsyncAPIExample] = document?.exampleCases.map(\.0) ?? []

    /// Every member of an example that its schema lists in `required`.
    static let requiredFields: [AsyncAPIFieldCase] = document?.members(required: true) ?? []

    /// Every member of an example that its schema describes but does not require.
    static let optionalFields: [AsyncAPIFieldCase] = document?.members(required: false) ?? []

    /// Every string of an example whose schema has an `enum`.
    static let enumeratedFields: [AsyncAPIFieldCase] = {
        guard let document else { return [] }
        return document.exampleCases.flatMap { example, root in
            document.nodes(of: root.value, schemas: root.schemas)
                .filter { $0.value is String && $0.schemas.contains { $0["enum"] != nil } }
                .map { AsyncAPIFieldCase(example: example, path: $0.path, schemas: $0.schemas) }
        }
    }()
}
