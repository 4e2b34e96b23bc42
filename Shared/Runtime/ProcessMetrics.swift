import Foundation
import Prometheus
#if canImport(Glibc)
import Glibc
#endif

/// The process's own figures, read from `/proc/self` when `/metrics` is scraped: `process_resident_memory_bytes`,
/// `process_virtual_memory_bytes`, `process_cpu_seconds_total`, `process_open_fds`, `process_max_fds` and
/// `process_start_time_seconds` (the names every Prometheus client library uses). Linux only; elsewhere they stay 0.
struct ProcessMetrics: Sendable {
    let resident: Gauge
    let virtual: Gauge
    let cpu: Gauge
    let openFiles: Gauge
    let maximumFiles: Gauge
    let startTime: Gauge

    init(registry: PrometheusCollectorRegistry) {
        resident = registry.makeGauge(name: "process_resident_memory_bytes", help: "Resident memory size in bytes.")
        virtual = registry.makeGauge(name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.")
        cpu = registry.makeGauge(name: "process_cpu_seconds_total", help: "User and system CPU time spent in seconds.")
        openFiles = registry.makeGauge(name: "process_open_fds", help: "Number of open file descriptors.")
        maximumFiles = registry.makeGauge(name: "process_max_fds", help: "Maximum number of open file descriptors.")
        startTime = registry.makeGauge(name: "process_start_time_seconds", help: "Start time of the process since the epoch, in seconds.")
    }

    /// Reads the figures now.
    func update() {
        #if os(Linux)
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        // /proc/self/stat: the fields after the command (which may hold spaces) start at the third, `state`.
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), let end = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
            if let user = field(14), let system = field(15) { cpu.set((user + system) / ticks) }
            if let bytes = field(23) { virtual.set(bytes) }
            if let pages = field(24) { resident.set(pages * pageSize) }
            if let started = field(22), let boot = Self.bootTime { startTime.set(boot + started / ticks) }
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") { openFiles.set(Double(descriptors.count)) }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maximumFiles.set(Double(limit.rlim_cur)) }
        #endif
    }

    /// When the machine started, from `/proc/stat` (`btime`).
    static let bootTime: Double? = {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return stat.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) }
    }()
}
