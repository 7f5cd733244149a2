import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A real nginx in front of a test server: a site configuration (such as `deploy/nginx/conduit.conf`) with its upstream,
/// `listen` port and cache folder replaced, run in the foreground in a folder of its own, its error log in a file.
/// `stop()` ends it by pid (politely, then `SIGKILL`); every wait is bounded.
///
/// ```swift
/// let nginx = try await Nginx.start(site: config, upstreamPort: port)
/// let client = TestClient(host: "127.0.0.1", port: nginx.port)
/// …                                                   // every check; a failure is recorded, not thrown past here
/// await nginx.stop()
/// ```
public final class Nginx: Sendable {
    public let port: Int
    /// The folder it runs in: its configuration, logs and cache.
    public let folder: String
    private let process: Mutex<Process?>

    /// The nginx to run: `KEEL_TEST_NGINX`, else `nginx` on the path or in /usr/sbin.
    public static var executable: String? {
        Browser.executable(ProcessInfo.processInfo.environment["KEEL_TEST_NGINX"], else: ["nginx", "/usr/sbin/nginx"])
    }

    /// Starts nginx with `site` (the lines of an `http { }` block), its `server 127.0.0.1:8080;` upstream pointed at
    /// `upstreamPort`, `listen 80;` at a free port and `/var/cache/nginx/conduit` at a folder of its own; waits (at
    /// most 10 s) until it accepts connections.
    public static func start(site: String, upstreamPort: Int) async throws -> Nginx {
        guard let executable else { throw Browser.Failure("no nginx (install it: apt-get install -y nginx, or set KEEL_TEST_NGINX)") }
        let port = try Browser.freePort()
        let folder = NSTemporaryDirectory() + "keel-nginx-\(UUID().uuidString)"
        for sub in ["", "/cache", "/temp", "/logs"] {
            try FileManager.default.createDirectory(atPath: folder + sub, withIntermediateDirectories: true)
        }
        let rewritten = site
            .replacingOccurrences(of: "server 127.0.0.1:8080;", with: "server 127.0.0.1:\(upstreamPort);")
            .replacingOccurrences(of: "listen 80;", with: "listen 127.0.0.1:\(port);")
            .replacingOccurrences(of: "/var/cache/nginx/conduit", with: folder + "/cache")
        let main = """
            worker_processes 1;
            error_log \(folder)/logs/error.log warn;
            pid \(folder)/nginx.pid;
            events { worker_connections 256; }
            http {
                access_log \(folder)/logs/access.log;
                client_body_temp_path \(folder)/temp/body;
                proxy_temp_path \(folder)/temp/proxy;
                fastcgi_temp_path \(folder)/temp/fastcgi;
                uwsgi_temp_path \(folder)/temp/uwsgi;
                scgi_temp_path \(folder)/temp/scgi;
            \(rewritten)
            }
            """
        try main.write(toFile: folder + "/nginx.conf", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-p", folder, "-c", folder + "/nginx.conf", "-g", "daemon off; master_process off;"]
        process.standardInput = FileHandle.nullDevice
        let output = folder + "/logs/output.log"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let log = FileHandle(forWritingAtPath: output)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try? log?.close()
        let nginx = Nginx(port: port, folder: folder, process: process)
        for _ in 0..<100 {
            if !process.isRunning {
                let reason = Browser.tail(of: output) + Browser.tail(of: folder + "/logs/error.log")
                await nginx.stop()
                throw Browser.Failure("nginx exited at start: \(reason)")
            }
            if Self.accepts(port: port) { return nginx }
            try await Task.sleep(for: .milliseconds(100))
        }
        await nginx.stop()
        throw Browser.Failure("nginx did not accept connections within 10 s: \(Browser.tail(of: folder + "/logs/error.log"))")
    }

    private init(port: Int, folder: String, process: Process) {
        self.port = port
        self.folder = folder
        self.process = Mutex(process)
    }

    /// What nginx wrote to its access log (one line a request).
    public var accessLog: String { (try? String(contentsOfFile: folder + "/logs/access.log", encoding: .utf8)) ?? "" }

    /// Ends nginx (SIGTERM, then SIGKILL after 5 s) and removes its folder. Safe to call twice.
    public func stop() async {
        guard let running = process.withLock({ process -> Process? in defer { process = nil }; return process }) else { return }
        let pid = running.processIdentifier
        if running.isRunning { kill(pid, SIGTERM) }
        for _ in 0..<50 where running.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
        if running.isRunning { kill(pid, SIGKILL) }
        for _ in 0..<50 where running.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Whether something accepts TCP connections on the loopback port.
    static func accepts(port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
