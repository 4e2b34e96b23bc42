import CommlogRuntime

// query-api: the HTTP API staff use (timelines, board, notes, calls, live updates).
await ProgramRunner.run("query-api", defaultHTTPPort: 8080) { infrastructure, registry in
    infrastructure.serviceGroup(running: try await buildApplication(infrastructure, registry: registry))
}
