import CommlogDomain
import CommlogRuntime
import Foundation
import Messaging
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension ReminderLoggerProcesses {
    /// The real programs started while the broker cannot be reached: they keep retrying and say so, connect
    /// as soon as it can be reached, and stop within seconds of SIGTERM in every state.
    @Suite("programs without a broker", .timeLimit(.minutes(3)))
    struct BrokerUnreachableTests {
        /// The broker's URL with its port replaced.
        static func brokerURL(port: Int) throws -> (url: String, brokerPort: Int) {
            let url = try TestEnvironment.variable("COMMLOG_AMQP_URL")
            var components = try #require(URLComponents(string: url))
            let brokerPort = try #require(components.port)
            components.port = port
            return (try #require(components.string), brokerPort)
        }

        @Test("while nothing listens: retries said in the log, not ready, and SIGTERM stops it within seconds", arguments: ["reminder-logger", "call-bridge"])
        func nothingListens(_ program: String) async throws {
            let (url, _) = try Self.brokerURL(port: freePort())
            let port = freePort()
            let process = try ProgramProcess(program, environment: ["COMMLOG_AMQP_URL": url, "COMMLOG_HTTP_PORT": "\(port)", "COMMLOG_SMDR_ENABLED": "false"])
            let retried = await eventually(timeout: .seconds(20), every: .milliseconds(200)) {
                process.output.components(separatedBy: "AMQP connection unavailable, retrying").count > 3
            }
            #expect(retried, "\(process.output.suffix(2_000))")
            #expect(await !ProgramProcess.isReady(port: port))
            let start = ContinuousClock.now
            let status = await process.kill(SIGTERM)
            #expect(ContinuousClock.now - start < .seconds(10), "took \(ContinuousClock.now - start) to stop")
            #expect(status == 0, "exit status \(status)")
        }

        @Test("the broker becomes reachable: the program connects as soon as it can, and stops on SIGTERM while connected")
        func brokerArrives() async throws {
            let forwarderPort = freePort()
            let (url, brokerPort) = try Self.brokerURL(port: forwarderPort)
            let port = freePort()
            let process = try ProgramProcess("reminder-logger", environment: ["COMMLOG_AMQP_URL": url, "COMMLOG_HTTP_PORT": "\(port)"])
            try await Task.sleep(for: .seconds(3))
            #expect(await !ProgramProcess.isReady(port: port))
            // Now the broker can be reached through a forwarder on the port the program keeps trying.
            let forwarder = try ChildProcess(executable: "/usr/bin/env", arguments: ["python3", "-c", Self.forwarder, "\(forwarderPort)", "\(brokerPort)"],
                                             environment: ProcessInfo.processInfo.environment)
            defer { forwarder.signal(SIGKILL) }
            let connected = await eventually(timeout: .seconds(30), every: .milliseconds(200)) { await ProgramProcess.isReady(port: port) }
            #expect(connected, "\(process.output.suffix(2_000))")
            let start = ContinuousClock.now
            let status = await process.kill(SIGTERM)
            #expect(ContinuousClock.now - start < .seconds(10))
            #expect(status == 0)
            #expect(process.output.contains("re-established"))
        }

        /// A TCP forwarder: listens on argv[1], forwards each connection to argv[2] on 127.0.0.1.
        static let forwarder = """
            import asyncio, sys
            async def pipe(reader, writer):
                try:
                    while data := await reader.read(65536):
                        writer.write(data)
                        await writer.drain()
                finally:
                    writer.close()
            async def handle(reader, writer):
                upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", int(sys.argv[2]))
                await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True)
            async def main():
                server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
                async with server:
                    await server.serve_forever()
            asyncio.run(main())
            """
    }
}
