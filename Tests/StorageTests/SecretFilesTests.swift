import CommlogRuntime
import Foundation
import Logging
import Messaging
import Storage
import Testing

/// Every secret may be given as a file (`COMMLOG_…_FILE`), which is how Kubernetes Secrets and compose
/// `secrets:` are mounted.
@Suite("Secrets from files")
struct SecretFilesTests {
    static func file(_ content: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)").path
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("each secret key is read from its file, without the final line break; other keys have no file variant")
    func readFromFiles() throws {
        let database = try Self.file("postgres://commlog_app:s3cret@db.example.org:5432/commlog?sslmode=require\n")
        let amqp = try Self.file("amqp://commlog:p@rabbit-1/commlog,rabbit-2\r\n")
        let jwt = try Self.file(String(repeating: "k", count: 40))
        defer { [database, amqp, jwt].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        let configuration = try ProgramConfiguration(program: "test", defaultHTTPPort: 0, overrides: [
            "COMMLOG_DATABASE_URL": "", "COMMLOG_DATABASE_URL_FILE": database,
            "COMMLOG_AMQP_URL": "", "COMMLOG_AMQP_URL_FILE": amqp,
            "COMMLOG_JWT_SECRET": "", "COMMLOG_JWT_SECRET_FILE": jwt,
        ])
        #expect(configuration.database.host == "db.example.org")
        #expect(configuration.database.password == "s3cret")
        #expect(configuration.amqp.nodes.map(\.host) == ["rabbit-1", "rabbit-2"])
        #expect(configuration.jwtSecret == String(repeating: "k", count: 40))
        #expect(ConfigurationKey.all.filter(\.isSecret).map(\.environmentName).sorted() == [
            "COMMLOG_AMQP_URL", "COMMLOG_DATABASE_OWNER_URL", "COMMLOG_DATABASE_READ_URL", "COMMLOG_DATABASE_URL",
            "COMMLOG_JWT_SECRET", "COMMLOG_SECRET_KEY", "COMMLOG_SECRET_KEY_PREVIOUS",
        ])
        // A non-secret key's _FILE means nothing.
        let plain = try ProgramConfiguration(program: "test", defaultHTTPPort: 0, overrides: ["COMMLOG_LOG_LEVEL_FILE": "/nonexistent"])
        #expect(plain.logLevel == .info)
    }

    @Test("a key given both ways, a missing file and an empty file are refused, naming the variable")
    func refused() throws {
        let empty = try Self.file("\n")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let cases: [([String: String], String)] = [
            (["COMMLOG_JWT_SECRET": String(repeating: "k", count: 40), "COMMLOG_JWT_SECRET_FILE": empty], "COMMLOG_JWT_SECRET: is set, and so is COMMLOG_JWT_SECRET_FILE"),
            (["COMMLOG_DATABASE_URL": "", "COMMLOG_DATABASE_URL_FILE": "/nonexistent/secret"], "COMMLOG_DATABASE_URL_FILE: cannot read /nonexistent/secret"),
            (["COMMLOG_SECRET_KEY": "", "COMMLOG_SECRET_KEY_FILE": empty], "COMMLOG_SECRET_KEY_FILE: \(empty) is empty"),
        ]
        for (overrides, message) in cases {
            let error = #expect(throws: ConfigurationError.self) {
                try ProgramConfiguration(program: "test", defaultHTTPPort: 0, overrides: overrides)
            }
            #expect(error?.description.contains(message) == true, "\(error.map(String.init(describing:)) ?? "no error")")
        }
    }

    @Test("log positions are read and compared as PostgreSQL writes them")
    func walPositions() throws {
        let position = try #require(WALPosition("16/B374D848"))
        #expect(position.value == 0x16_B374_D848)
        #expect(position.description == "16/B374D848")
        #expect(try #require(WALPosition("0/0")) < position)
        #expect(try #require(WALPosition("17/0")) > position)
        for garbage in ["", "16", "16/", "/1", "x/1", "1/2/3", "123456789/0", "-1/0"] {
            #expect(WALPosition(garbage) == nil, "\(garbage)")
        }
    }
}
