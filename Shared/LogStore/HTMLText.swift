/// Plain text from an HTML body, for search and display when a message has no text part.
///
/// Drops tags, scripts and styles, turns block ends and `<br>` into line breaks and decodes the common
/// entities; good enough for a communications log, not a renderer.
public enum HTMLText {
    public static func plainText(_ html: String) -> String {
        var output = ""
        var index = html.startIndex
        var skipping: String?
        while index < html.endIndex {
            let character = html[index]
            if character == "<", let close = html[index...].firstIndex(of: ">") {
                let tag = html[html.index(after: index)..<close].lowercased()
                let name = String(tag.prefix { $0.isLetter || $0 == "/" })
                if let skipped = skipping {
                    if name == "/" + skipped { skipping = nil }
                } else if name == "script" || name == "style" {
                    skipping = name
                } else if ["br", "/p", "/div", "/li", "/tr", "/h1", "/h2", "/h3", "p", "div"].contains(name) {
                    if !output.hasSuffix("\n") { output.append("\n") }
                }
                index = html.index(after: close)
                continue
            }
            if skipping == nil { output.append(character) }
            index = html.index(after: index)
        }
        let entities = ["&nbsp;": " ", "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'", "&apos;": "'"]
        for (entity, replacement) in entities { output = output.replacing(entity, with: replacement) }
        return output.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingPrefix(while: \.isWhitespace) }
            .joined(separator: "\n")
            .trimmingPrefix(while: \.isNewline)
            .description
    }
}

extension Substring {
    fileprivate func trimmingPrefix(while predicate: (Character) -> Bool) -> Substring {
        self[(firstIndex { !predicate($0) } ?? endIndex)...]
    }
}

extension String {
    fileprivate func trimmingPrefix(while predicate: (Character) -> Bool) -> Substring {
        self[(firstIndex { !predicate($0) } ?? endIndex)...]
    }
}
