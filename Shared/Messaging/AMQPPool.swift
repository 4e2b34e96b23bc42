internal import CRabbitMQ

/// Memory for the C structures of one outgoing method: strings and tables are copied into an
/// `amqp_pool_t` and live until the pool is recycled, so no pointer into a Swift value escapes.
final class AMQPPool {
    private var pool = amqp_pool_t()

    init() {
        init_amqp_pool(&pool, 4096)
    }

    deinit {
        empty_amqp_pool(&pool)
    }

    /// Frees everything allocated since the last recycle, keeping the pages.
    func recycle() {
        recycle_amqp_pool(&pool)
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        var copy = string
        return copy.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    func bytes(_ buffer: UnsafeRawBufferPointer) -> amqp_bytes_t {
        guard buffer.count > 0 else { return commlog_empty_bytes() }
        var result = amqp_bytes_t()
        amqp_pool_alloc_bytes(&pool, buffer.count, &result)
        result.bytes.copyMemory(from: buffer.baseAddress!, byteCount: buffer.count)
        return result
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty else { return commlog_empty_table() }
        let raw = amqp_pool_alloc(&pool, MemoryLayout<amqp_table_entry_t>.stride * table.count)!
        let entries = raw.bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        // Sorted keys keep the encoding deterministic (the broker compares declare arguments).
        for (index, key) in table.keys.sorted().enumerated() {
            entries[index] = amqp_table_entry_t(key: bytes(key), value: value(table[key]!))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    private func value(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        switch value {
        case .string(let string):
            field.kind = UInt8(ascii: "S")
            field.value.bytes = bytes(string)
        case .bytes(let data):
            field.kind = UInt8(ascii: "x")
            field.value.bytes = data.withUnsafeBytes { bytes($0) }
        case .int(let int):
            field.kind = UInt8(ascii: "l")
            field.value.i64 = int
        case .bool(let bool):
            field.kind = UInt8(ascii: "t")
            field.value.boolean = bool ? 1 : 0
        case .double(let double):
            field.kind = UInt8(ascii: "d")
            field.value.f64 = double
        case .timestamp(let timestamp):
            field.kind = UInt8(ascii: "T")
            field.value.u64 = timestamp
        case .table(let nested):
            field.kind = UInt8(ascii: "F")
            field.value.table = table(nested)
        case .array(let values):
            field.kind = UInt8(ascii: "A")
            let raw = amqp_pool_alloc(&pool, MemoryLayout<amqp_field_value_t>.stride * max(values.count, 1))!
            let entries = raw.bindMemory(to: amqp_field_value_t.self, capacity: max(values.count, 1))
            for (index, element) in values.enumerated() { entries[index] = self.value(element) }
            field.value.array = amqp_array_t(num_entries: Int32(values.count), entries: entries)
        case .void:
            field.kind = UInt8(ascii: "V")
        }
        return field
    }
}

// MARK: Reading C structures into Swift values

extension amqp_bytes_t {
    /// A Swift copy of the bytes.
    var array: [UInt8] {
        guard len > 0, let bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: len))
    }

    var string: String {
        guard len > 0, let bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: len), as: UTF8.self)
    }
}

extension amqp_table_t {
    /// A Swift copy of the table.
    var swiftTable: AMQPTable {
        var result = AMQPTable()
        guard num_entries > 0, let entries else { return result }
        for index in 0..<Int(num_entries) {
            result[entries[index].key.string] = entries[index].value.swiftValue
        }
        return result
    }
}

extension amqp_field_value_t {
    var swiftValue: AMQPFieldValue {
        switch Character(Unicode.Scalar(kind)) {
        case "t": .bool(value.boolean != 0)
        case "b": .int(Int64(value.i8))
        case "B": .int(Int64(value.u8))
        case "s": .int(Int64(value.i16))
        case "u": .int(Int64(value.u16))
        case "I": .int(Int64(value.i32))
        case "i": .int(Int64(value.u32))
        case "l": .int(value.i64)
        case "L": .int(Int64(clamping: value.u64))
        case "f": .double(Double(value.f32))
        case "d": .double(value.f64)
        case "S": .string(value.bytes.string)
        case "x": .bytes(value.bytes.array)
        case "T": .timestamp(value.u64)
        case "F": .table(value.table.swiftTable)
        case "A":
            .array((0..<Int(value.array.num_entries)).map { value.array.entries[$0].swiftValue })
        default: .void
        }
    }
}
