/// Splits a script into statements, since the extended query protocol runs one statement at a time.
///
/// Semicolons separate statements except inside quotes ('…', "…"), dollar quotes ($$…$$, $tag$…$tag$)
/// and comments (-- …, /* … */). Empty statements are dropped.
enum SQLScript {
    static func statements(_ script: String) -> [String] {
        let characters = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var index = 0

        func flush() {
            let statement = String(current).trimmingWhitespace
            if !statement.isEmpty, !statement.isOnlyComments { statements.append(statement) }
            current = String.UnicodeScalarView()
        }
        func copy(until terminator: [Unicode.Scalar]) {
            while index < characters.count {
                if characters[index...].starts(with: terminator) {
                    current.append(contentsOf: terminator)
                    index += terminator.count
                    return
                }
                current.append(characters[index])
                index += 1
            }
        }

        while index < characters.count {
            let character = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            switch (character, next) {
            case ("'", _), ("\"", _):
                current.append(character)
                index += 1
                copy(until: [character])
            case ("-", "-"):
                copy(until: ["\n"])
            case ("/", "*"):
                copy(until: ["*", "/"])
            case ("$", _):
                // A dollar quote opens with $tag$ where tag is empty or an identifier.
                var end = index + 1
                while end < characters.count, characters[end] == "_" || characters[end].properties.isAlphabetic || (end > index + 1 && characters[end].properties.numericType != nil) {
                    end += 1
                }
                if end < characters.count, characters[end] == "$" {
                    let tag = Array(characters[index...end])
                    current.append(contentsOf: tag)
                    index = end + 1
                    copy(until: tag)
                } else {
                    current.append(character)
                    index += 1
                }
            case (";", _):
                index += 1
                flush()
            default:
                current.append(character)
                index += 1
            }
        }
        flush()
        return statements
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    /// True when every line is blank or a `--` comment.
    fileprivate var isOnlyComments: Bool {
        split(separator: "\n").allSatisfy { line in
            let trimmed = String(line).trimmingWhitespace
            return trimmed.isEmpty || trimmed.hasPrefix("--")
        }
    }
}
