import Foundation
import Testing

/// `log_format: json`: every line wsgate writes is one JSON object with the stable keys, the
/// handshake lines carry their fields, and a token in a request never reaches the log.
@Suite(.timeLimit(.minutes(1)))
struct OpsJSONLogTests {
    @Test func everyLineIsOneJSONObjectWithTheStableKeysAndNoSecret() throws {
        let directory = try opsTemporaryDirectory()
        let port = try OpsSocket.freePort()
        let config = directory + "/wsgate.yaml"
        try """
            log_format: json
            listeners:
              - bind: 127.0.0.1:\(port)
            routes:
              - path: /echo
                echo: true

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let gateway = try OpsGatewayProcess(configPath: config, waitForPorts: [port])
        defer { gateway.kill() }
        let secret = "s3cr3t-token-value"
        let ws = try OpsWebSocket(port: port, path: "/echo?access_token=\(secret)")
        ws.sendText("hi")
        _ = ws.readFrame()
        ws.close()
        _ = try rawExchange(port: port, [Array("GET /nowhere?access_token=\(secret) HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n".utf8)])
        _ = try rawExchange(port: port, [Array("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n".utf8)])
        gateway.signal(SIGTERM)
        #expect(gateway.waitForExit(timeout: 10) == 0)

        let lines = gateway.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count >= 5, "\(gateway.stderr)")
        var objects: [[String: Any]] = []
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not one JSON object: \(line)")
            if let object { objects.append(object) }
        }
        for object in objects {
            #expect(object["time"] is String && object["level"] is String && object["event"] is String, "\(object)")
        }
        let requests = objects.filter { ($0["event"] as? String) == "request" }
        #expect(requests.count == 3, "\(requests)")
        for request in requests {
            for key in ["peer", "tls", "dialect", "path", "status"] { #expect(request[key] != nil, "\(key) missing in \(request)") }
        }
        #expect(requests.contains { ($0["status"] as? String) == "101" && ($0["dialect"] as? String) == "rfc6455" })
        #expect(requests.contains { ($0["status"] as? String) == "404" && ($0["reason"] as? String)?.contains("no route") == true })
        #expect(requests.contains { ($0["status"] as? String) == "426" })
        #expect(!gateway.stderr.contains(secret), "the token reached the log")
    }
}
