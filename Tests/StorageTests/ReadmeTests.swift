import CommlogRuntime
import Foundation
import Testing

/// The README's configuration table is `commlog config --markdown`: every key, as the code defines it.
@Suite("README")
struct ReadmeTests {
    @Test("the README lists every configuration key with its default")
    func configurationTable() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        for key in ConfigurationKey.all {
            let row = text.split(separator: "\n").first { $0.hasPrefix("| `\(key.environmentName)` |") || $0.hasPrefix("| `\(key.environmentName)` or `\(key.fileVariant)` |") }
            #expect(row != nil, "README.md has no row for \(key.environmentName) (regenerate it with commlog config --markdown)")
            if let row, let value = key.defaultValue {
                #expect(row.contains(value.replacingOccurrences(of: "|", with: "\\|")), "README.md: \(key.environmentName) should default to \(value)")
            }
        }
    }
}
