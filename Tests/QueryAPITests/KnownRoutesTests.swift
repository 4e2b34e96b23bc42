import Foundation
import Hummingbird
import Testing

@testable import QueryAPI

/// `KnownRoutes` repeats the paths of `openapi.yaml` (for 405 answers and body checks): it must say the same.
@Suite struct KnownRoutesTests {
    @Test("every path and method of openapi.yaml is a known route, and nothing else is")
    func sameAsTheDocument() throws {
        let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Services/QueryAPI/openapi.yaml")
        let lines = try String(contentsOf: document, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        var documented: [String: Set<String>] = [:]
        var current: String?
        var inPaths = false
        for line in lines {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, !line.isEmpty, !line.hasPrefix(" ") { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                let path = String(line.dropFirst(2).dropLast())
                current = path.replacingOccurrences(of: "\\{[^}]+\\}", with: "*", options: .regularExpression)
                documented[current!] = []
            } else if let current, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "post", "put", "patch", "delete"].contains(method) { documented[current]?.insert(method.uppercased()) }
            }
        }
        #expect(documented.count >= 10)
        let known = Dictionary(uniqueKeysWithValues: KnownRoutes.routes.map { route in
            ("/" + route.segments.joined(separator: "/"), Set(route.methods.map(\.rawValue)))
        }).filter { $0.key != "/openapi.yaml" }
        #expect(known == documented)
    }
}
