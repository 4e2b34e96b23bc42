/// Publishes awaiting the broker's confirm, by sequence number.
///
/// Sequence numbers are consecutive from 1 on each channel, so entries live in an array indexed by
/// `tag - base`; confirms (single or `multiple`) clear slots and the front advances past cleared ones.
struct ConfirmWindow<Payload> {
    struct Entry {
        let tag: UInt64
        /// What waits for the confirm (the connection's: a publish request and the message's index in it).
        let payload: Payload
    }

    private var slots: [Entry?] = []
    private var head = 0
    private var base: UInt64 = 1

    /// The sequence number the next publish on this channel gets.
    var nextTag: UInt64 { base + UInt64(slots.count) }

    var isEmpty: Bool { head == slots.count }

    mutating func append(tag: UInt64, _ payload: Payload) {
        precondition(tag == nextTag, "publish sequence numbers are consecutive")
        slots.append(Entry(tag: tag, payload: payload))
    }

    /// Removes and returns the entry for `tag`, or with `multiple` every entry up to and including it.
    mutating func remove(upTo tag: UInt64, multiple: Bool) -> [Entry] {
        guard tag >= base, tag < nextTag else { return [] }
        let last = Int(tag - base)
        let first = multiple ? head : last
        // A run that was confirmed already (the front has moved past it): nothing to remove.
        guard first <= last else { return [] }
        var removed: [Entry] = []
        for position in first...last {
            if let entry = slots[position] {
                removed.append(entry)
                slots[position] = nil
            }
        }
        while head < slots.count, slots[head] == nil { head += 1 }
        if head > 4096, head * 2 > slots.count {
            slots.removeFirst(head)
            base += UInt64(head)
            head = 0
        }
        return removed
    }

    /// What is still unconfirmed, in order.
    var payloads: [Payload] { slots[head...].compactMap { $0?.payload } }

    /// Empties the window (the channel is gone), returning what was still unconfirmed in order.
    mutating func removeAll() -> [Entry] {
        defer { self = ConfirmWindow() }
        return slots[head...].compactMap { $0 }
    }
}
