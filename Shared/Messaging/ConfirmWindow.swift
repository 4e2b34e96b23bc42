/// Publishes awaiting the broker's confirm, by sequence number.
///
/// Sequence numbers are consecutive from 1 on each channel, so entries live in an array indexed by
/// `tag - base`; confirms (single or `multiple`) clear slots and the front advances past cleared ones.
struct ConfirmWindow {
    struct Entry {
        let tag: UInt64
        let request: PublishRequest
        let index: Int
    }

    private var slots: [Entry?] = []
    private var head = 0
    private var base: UInt64 = 1

    /// The sequence number the next publish on this channel gets.
    var nextTag: UInt64 { base + UInt64(slots.count) }

    var isEmpty: Bool { head == slots.count }

    mutating func append(tag: UInt64, request: PublishRequest, index: Int) {
        precondition(tag == nextTag, "publish sequence numbers are consecutive")
        slots.append(Entry(tag: tag, request: request, index: index))
    }

    /// Removes and returns the entry for `tag`, or with `multiple` every entry up to and including it.
    mutating func remove(upTo tag: UInt64, multiple: Bool) -> [Entry] {
        guard tag >= base, tag < nextTag else { return [] }
        let last = Int(tag - base)
        var removed: [Entry] = []
        for position in (multiple ? head : last)...last {
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

    /// Empties the window (the channel is gone), returning what was still unconfirmed in order.
    mutating func removeAll() -> [Entry] {
        defer { self = ConfirmWindow() }
        return slots[head...].compactMap { $0 }
    }
}
