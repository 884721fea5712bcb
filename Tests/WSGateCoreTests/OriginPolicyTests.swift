import Testing
import WSGateCore

@Suite(.serialized, .timeLimit(.minutes(1)))
struct OriginPolicyTests {
    @Test func aRequestWithoutOriginIsAdmitted() {
        #expect(OriginPolicy.admits(origin: nil, host: "127.0.0.1:8080", isTLS: false, allowed: nil))
        #expect(OriginPolicy.admits(origin: "", host: "127.0.0.1:8080", isTLS: false, allowed: nil))
        #expect(OriginPolicy.admits(origin: nil, host: nil, isTLS: false, allowed: ["http://a.example"]))
    }

    @Test func byDefaultTheSameOriginAsTheHostIsAdmitted() {
        #expect(OriginPolicy.admits(origin: "http://127.0.0.1:8080", host: "127.0.0.1:8080", isTLS: false, allowed: nil))
        #expect(OriginPolicy.admits(origin: "HTTP://Example.COM", host: "example.com", isTLS: false, allowed: nil))
        #expect(OriginPolicy.admits(origin: "http://example.com:80", host: "example.com", isTLS: false, allowed: nil))
        #expect(OriginPolicy.admits(origin: "http://example.com", host: "example.com:80", isTLS: false, allowed: nil))
        #expect(OriginPolicy.admits(origin: "https://example.com", host: "example.com", isTLS: true, allowed: nil))
        #expect(OriginPolicy.admits(origin: "https://example.com", host: "example.com:443", isTLS: true, allowed: nil))
    }

    @Test func byDefaultAnotherOriginIsRefused() {
        #expect(!OriginPolicy.admits(origin: "http://evil.example", host: "127.0.0.1:8080", isTLS: false, allowed: nil))
        #expect(!OriginPolicy.admits(origin: "http://127.0.0.1:9090", host: "127.0.0.1:8080", isTLS: false, allowed: nil))
        #expect(!OriginPolicy.admits(origin: "http://example.com", host: "example.com", isTLS: true, allowed: nil))
        #expect(!OriginPolicy.admits(origin: "http://example.com.evil.net", host: "example.com", isTLS: false, allowed: nil))
    }

    @Test func byDefaultAnOriginWithoutAHostOrAnUnparsableOriginIsRefused() {
        #expect(!OriginPolicy.admits(origin: "http://example.com", host: nil, isTLS: false, allowed: nil))
        #expect(!OriginPolicy.admits(origin: "null", host: "example.com", isTLS: false, allowed: nil))
    }

    @Test func aListedOriginIsAdmittedAndOthersAreRefused() {
        let allowed = ["http://127.0.0.1:8080", "https://chat.example"]
        #expect(OriginPolicy.admits(origin: "http://127.0.0.1:8080", host: "elsewhere", isTLS: false, allowed: allowed))
        #expect(OriginPolicy.admits(origin: "https://CHAT.example", host: "elsewhere", isTLS: false, allowed: allowed))
        #expect(OriginPolicy.admits(origin: "https://chat.example:443", host: "elsewhere", isTLS: false, allowed: allowed))
        #expect(OriginPolicy.admits(origin: "https://chat.example/", host: "elsewhere", isTLS: false, allowed: allowed))
        #expect(!OriginPolicy.admits(origin: "http://chat.example", host: "chat.example", isTLS: false, allowed: allowed))
        #expect(!OriginPolicy.admits(origin: "http://127.0.0.1:8081", host: "127.0.0.1:8081", isTLS: false, allowed: allowed))
    }

    @Test func aListReplacesTheSameOriginRule() {
        #expect(!OriginPolicy.admits(origin: "http://a.example", host: "a.example", isTLS: false, allowed: ["http://b.example"]))
        #expect(!OriginPolicy.admits(origin: "http://a.example", host: "a.example", isTLS: false, allowed: []))
    }

    @Test func aStarAdmitsAnyOrigin() {
        #expect(OriginPolicy.admits(origin: "http://evil.example", host: "127.0.0.1", isTLS: false, allowed: ["*"]))
        #expect(OriginPolicy.admits(origin: "null", host: nil, isTLS: true, allowed: ["http://x", "*"]))
    }
}
