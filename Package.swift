// swift-tools-version:6.2

import PackageDescription

/// Settings every target shares: Swift 6 language mode plus the upcoming features the codebase is written for.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Linux only (Debian 12): the programs link rabbitmq-c, libetpan, GMime and libphonenumber from Debian's
// packages, and no Apple platform is claimed.
let package = Package(
    name: "commlog",
    products: [
        .executable(name: "reminder-logger", targets: ["ReminderLogger"]),
        .executable(name: "email-ingestor", targets: ["EmailIngestor"]),
        .executable(name: "call-bridge", targets: ["CallBridge"]),
        .executable(name: "query-api", targets: ["QueryAPI"]),
        .executable(name: "commlog", targets: ["Admin"]),
        .executable(name: "commlog-bench", targets: ["IngestBenchmark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["ConfigurationSupport"]),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Traces over OTLP/HTTP only (the gRPC exporter would bring grpc-swift along).
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
    ],
    targets: [
        // MARK: Programs

        .executableTarget(
            name: "ReminderLogger",
            dependencies: [
                "CommlogDomain",
                "CommlogRuntime",
                "LogStore",
                "Messaging",
                "Storage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Services/ReminderLogger",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "EmailIngestor",
            dependencies: [
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "NIOCore", package: "swift-nio"),
                "CommlogDomain",
                "CommlogRuntime",
                "IMAP",
                "Integrations",
                "LogStore",
                "MIME",
                "Messaging",
                "Storage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/EmailIngestor/Program",
            swiftSettings: swiftSettings
        ),
        /// GMime 3, as Debian's libgmime-3.0-dev installs it (only the email ingestor parses MIME).
        .systemLibrary(
            name: "CGMime",
            path: "Services/EmailIngestor/CGMime",
            pkgConfig: "gmime-3.0",
            providers: [.apt(["libgmime-3.0-dev"])]
        ),
        /// The one Swift wrapper of GMime: a raw message in, subject, addresses, body and attachments out.
        .target(
            name: "MIME",
            dependencies: ["CGMime"],
            path: "Services/EmailIngestor/MIME",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CallBridge",
            dependencies: [
                "CommlogDomain",
                "CommlogRuntime",
                "Integrations",
                "LogStore",
                "Messaging",
                "PhoneNumbers",
                "Storage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/CallBridge",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "QueryAPI",
            dependencies: [
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                "Messaging",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "Auth",
                "CommlogDomain",
                "CommlogRuntime",
                "LogStore",
                "PhoneNumbers",
                "Storage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Services/QueryAPI",
            resources: [.copy("openapi.yaml"), .copy("Web/Templates"), .copy("Web/Assets")],
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .executableTarget(
            name: "Admin",
            dependencies: [
                "Auth",
                "CommlogDomain",
                "CommlogRuntime",
                "IMAP",
                "Integrations",
                "LogStore",
                "Messaging",
                "Storage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Services/Admin",
            swiftSettings: swiftSettings
        ),

        // MARK: Shared by two or more programs

        /// What every program is made of: configuration, the health/metrics listener, logging, dead-letter archiving.
        .target(
            name: "CommlogRuntime",
            dependencies: [
                "CommlogDomain",
                "Messaging",
                "PhoneNumbers",
                "Storage",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            path: "Shared/Runtime",
            swiftSettings: swiftSettings
        ),
        /// The communication model and the v1 event contract as Codable types.
        .target(
            name: "CommlogDomain",
            path: "Shared/Domain",
            swiftSettings: swiftSettings
        ),
        /// The log's tables as the writers and readers of several programs use them: inserting entries, matching addresses.
        .target(
            name: "LogStore",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                "CommlogDomain",
                "PhoneNumbers",
                "Storage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Shared/LogStore",
            swiftSettings: swiftSettings
        ),
        /// The organisation's links to the outside world (call integrations, SMDR links), one store per table for
        /// the program that uses it and for `commlog`.
        .target(
            name: "Integrations",
            dependencies: [
                "IMAP",
                "Storage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Shared/Integrations",
            swiftSettings: swiftSettings
        ),
        /// Staff bearer tokens (JWT): the claims, signing (`commlog token`) and verification (query-api).
        .target(
            name: "Auth",
            dependencies: ["CommlogDomain", .product(name: "JWTKit", package: "jwt-kit")],
            path: "Shared/Auth",
            swiftSettings: swiftSettings
        ),
        /// libphonenumber (C++, Debian's libphonenumber-dev) behind a small `extern "C"` interface.
        .target(
            name: "CPhoneNumber",
            path: "Shared/CPhoneNumber",
            linkerSettings: [.linkedLibrary("phonenumber"), .linkedLibrary("stdc++")]
        ),
        /// Phone numbers to E.164 through libphonenumber: the call bridge's matching and the directory's normalisation.
        .target(
            name: "PhoneNumbers",
            dependencies: ["CPhoneNumber"],
            path: "Shared/PhoneNumbers",
            swiftSettings: swiftSettings
        ),
        /// rabbitmq-c, as Debian's librabbitmq-dev installs it.
        .systemLibrary(
            name: "CRabbitMQ",
            path: "Shared/CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        /// The one Swift wrapper of rabbitmq-c: connections on their own threads, confirms, consumers, batching.
        .target(
            name: "Messaging",
            dependencies: [
                "CRabbitMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Shared/Messaging",
            swiftSettings: swiftSettings
        ),
        /// libetpan, as Debian's libetpan-dev installs it (headers in /usr/include; its pkg-config file carries
        /// dpkg's `-specs` link flag, which swiftc does not take, so the module map links `etpan` itself).
        .systemLibrary(
            name: "CLibEtpan",
            path: "Shared/CLibEtpan",
            providers: [.apt(["libetpan-dev"])]
        ),
        /// The one Swift wrapper of libetpan's IMAP client, each session on a thread of its own
        /// (the email ingestor, its benchmark and tests).
        .target(
            name: "IMAP",
            dependencies: [
                "CLibEtpan",
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            path: "Shared/IMAP",
            swiftSettings: swiftSettings
        ),
        /// PostgreSQL access: configuration, migrations, tenant-scoped transactions.
        .target(
            name: "Storage",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Shared/Storage",
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks

        /// Ingest end to end against raw COPY and raw AMQP (`make bench-ingest`); a mailbox's first sync
        /// against mbsync (`make bench-mail`).
        .executableTarget(
            name: "IngestBenchmark",
            dependencies: [
                "CommlogDomain", "CommlogRuntime", "IMAP", "Messaging", "Storage", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Benchmarks/Ingest",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests

        /// Reaching the real servers `make test` starts, from the addresses in the environment.
        .target(
            name: "TestSupport",
            dependencies: [.product(name: "Logging", package: "swift-log"), "CommlogDomain", "CommlogRuntime", "Messaging", "Storage", .product(name: "PostgresNIO", package: "postgres-nio")],
            path: "Tests/Support",
            // Unoptimised in release builds too (the benchmarks link it): Swift 6.2's optimiser crashes (signal 11,
            // splitting a coroutine) on DeadLetterProbe.waitFor, and test helpers gain nothing from it.
            swiftSettings: swiftSettings + [.unsafeFlags(["-Onone"], .when(configuration: .release))]
        ),
        .testTarget(
            name: "AdminTests",
            dependencies: [
                "Admin", "CommlogDomain", "LogStore", "Storage", "TestSupport",
                .product(name: "Logging", package: "swift-log"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/AdminTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AuthTests",
            dependencies: ["Auth", "CommlogDomain", "TestSupport", .product(name: "JWTKit", package: "jwt-kit")],
            path: "Tests/AuthTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CallBridgeTests",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                "Auth", "CallBridge", "CommlogDomain", "CommlogRuntime", "LogStore", "Messaging", "PhoneNumbers", "Storage", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/CallBridgeTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DomainTests",
            dependencies: ["CommlogDomain"],
            path: "Tests/DomainTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EmailIngestorTests",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                "EmailIngestor", "ReminderLogger", "CommlogDomain", "CommlogRuntime", "IMAP", "Integrations", "LogStore", "MIME", "Messaging", "Storage", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/EmailIngestorTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MessagingTests",
            dependencies: [
                .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "Messaging", "CommlogRuntime", "Storage", "TestSupport",
            ],
            path: "Tests/MessagingTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QueryAPITests",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                "Auth", "CommlogDomain", "QueryAPI", "CommlogRuntime", "LogStore", "Messaging", "Storage", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/QueryAPITests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReminderLoggerTests",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                "ReminderLogger", "CommlogDomain", "CommlogRuntime", "LogStore", "Messaging", "Storage", "TestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/ReminderLoggerTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LogStoreTests",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                "CommlogDomain", "LogStore", "Storage", "TestSupport",
                .product(name: "Logging", package: "swift-log"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/LogStoreTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: ["Messaging", "Storage", "CommlogRuntime", "TestSupport", .product(name: "PostgresNIO", package: "postgres-nio")],
            path: "Tests/StorageTests",
            swiftSettings: swiftSettings
        ),
    ]
)
