import Foundation
import Testing

@testable import WSGateConfig

@Suite struct ConfigLoaderTests {
    @Test func theSpecExampleParsesToTheExpectedValues() throws {
        let configuration = try parse(exampleConfiguration)
        #expect(configuration.listeners.count == 3)
        #expect(configuration.listeners[0].host == "127.0.0.1")
        #expect(configuration.listeners[0].port == 8080)
        #expect(configuration.listeners[0].tls == nil)
        #expect(configuration.listeners[0].location == location(2, 5))
        #expect(configuration.listeners[1].tls == TLSListenerConfiguration(
            certificatePath: "certs-dev/server.crt", keyPath: "certs-dev/server.key", plain: .reject))
        #expect(configuration.listeners[2].port == 9000)
        #expect(configuration.listeners[2].tls == TLSListenerConfiguration(
            certificatePath: "certs-dev/server.crt", keyPath: "certs-dev/server.key", plain: .accept))
        #expect(configuration.admin == AdminConfiguration(host: "127.0.0.1", port: 9901))
        #expect(configuration.limits == .defaults)
        #expect(configuration.drainTimeoutSeconds == 10)
        #expect(configuration.logLevel == .info)
        #expect(configuration.routes.count == 5)

        let chat = configuration.routes[0]
        #expect(chat == RouteConfiguration(
            path: "/chat", isPrefix: false, target: .room("lobby"), history: 20, includeSender: true,
            announce: false, origins: ["http://127.0.0.1:8080", "https://127.0.0.1:8443"],
            subprotocols: ["chat", "superchat"], location: location(22, 5)))
        let rooms = configuration.routes[1]
        #expect(rooms.path == "/rooms")
        #expect(rooms.isPrefix)
        #expect(rooms.target == .room("*"))
        #expect(rooms.origins == nil)
        #expect(configuration.routes[2].target == .echo)
        let telnet = configuration.routes[3]
        #expect(telnet.target == .upstream(host: "127.0.0.1", port: 7000))
        #expect(telnet.encoding == .binary)
        #expect(telnet.connectTimeoutMs == 3000)
        #expect(telnet.maxConnectionsOnRoute == nil)
        #expect(configuration.routes[4].target == .staticFiles(root: "etc/www"))
        #expect(configuration.routes[4].path == "/")
        #expect(configuration.summary == "3 listeners, 5 routes, admin on 127.0.0.1:9901")
    }

    @Test func aRouteOverridesGlobalLimitsWithItsOwnKeys() throws {
        let text = """
        listeners: [ ]
        log_level: debug
        limits: { max_message_bytes: 100, drain_timeout_s: 3 }
        routes:
          - path: /a
            echo: true
            max_connections: 5
            idle_timeout_s: 60
        """.replacingOccurrences(of: "listeners: [ ]", with: "listeners:\n  - bind: localhost:0")
        let configuration = try parse(text)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.drainTimeoutSeconds == 3)
        #expect(configuration.limits.maxMessageBytes == 100)
        let route = configuration.routes[0]
        #expect(route.maxConnectionsOnRoute == 5)
        #expect(route.limits == LimitsConfiguration(maxConnections: 5, maxMessageBytes: 100, idleTimeoutSeconds: 60))
        #expect(configuration.summary == "1 listener, 1 route")
    }

    @Test func addressesAcceptIPv4HostNamesAndBracketedIPv6() throws {
        let text = """
        listeners:
          - bind: "[::1]:8080"
          - bind: gateway.example.com:443
          - bind: 0.0.0.0:0
          - bind: 0.0.0.0:0
        routes:
          - { path: /u, upstream: "tcp://[2001:db8::7]:9" }
        """
        let configuration = try parse(text)
        #expect(configuration.listeners.map(\.host) == ["::1", "gateway.example.com", "0.0.0.0", "0.0.0.0"])
        #expect(configuration.routes[0].target == .upstream(host: "2001:db8::7", port: 9))
    }

    @Test func badAddressesAreRefusedWithTheirReason() {
        let text = """
        listeners:
          - bind: 127.0.0.1
          - bind: 127.0.0.1:70000
          - bind: 300.1.1.1:80
          - bind: ::1:80
          - bind: -bad-.example:80
        admin: { bind: 127.0.0.1:x }
        """
        #expect(errorLines(text) == [
            "test.yaml:2:11: invalid value for 'bind': expected host:port, e.g. 127.0.0.1:8080, found '127.0.0.1'",
            "test.yaml:3:11: invalid value for 'bind': port 70000 is out of range 0–65535",
            "test.yaml:4:11: invalid value for 'bind': '300.1.1.1' is not an IPv4 address",
            "test.yaml:5:11: invalid value for 'bind': an IPv6 address needs brackets, e.g. [::1]:8080, found '::1:80'",
            "test.yaml:6:11: invalid value for 'bind': '-bad-.example' is not a host name or an IPv4 address",
            "test.yaml:7:16: invalid value for 'bind': expected a port number after ':', found 'x'",
        ])
    }

    @Test func aMissingFileIsOneErrorAtLine1Column1() {
        #expect(throws: ConfigErrors([ConfigError(.fileUnreadable(reason: "no such file"),
                                                  at: WSGateConfig.SourceLocation(file: "/nonexistent/w.yaml", line: 1, column: 1))])) {
            try ConfigLoader.load(path: "/nonexistent/w.yaml")
        }
    }

    @Test func loadReadsAFileAndNamesItInErrors() throws {
        let path = fixtureDirectory + "/wsgate.yaml"
        try exampleConfiguration.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try ConfigLoader.load(path: path, baseDirectory: fixtureDirectory)
        #expect(configuration.routes.count == 5)
        try "listeners:\n  - bind: 1.2.3.4:1\n  romm: x\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigErrors.self) { try ConfigLoader.load(path: path) }
        do {
            _ = try ConfigLoader.load(path: path)
        } catch {
            #expect(error.description.hasPrefix(path + ":3:3: "))
        }
    }

    @Test func theStaticFolderMustExistRelativeToTheBaseDirectory() {
        #expect(errorLines(configuration(route: "    static: no/such/dir\n")) == [
            "test.yaml:5:13: invalid value for 'static': folder 'no/such/dir' does not exist (relative to \(fixtureDirectory))"
        ])
    }
}
