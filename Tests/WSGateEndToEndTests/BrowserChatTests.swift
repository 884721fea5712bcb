import Foundation
import Testing

/// The demo chat page (etc/www/index.html) as a person uses it: two tabs of a real headless
/// Chromium, driven over the Chrome DevTools Protocol, chat with each other through the gateway.
///
/// Needs Debian's `chromium` (scripts/test.sh installs it); without it the test fails, it does not skip.
/// Set WSGATE_CHAT_SCREENSHOT=/some/file.png to also save a screenshot of tab B after the exchange.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct BrowserChatTests {
    static let chromium = "/usr/bin/chromium"

    @Test func twoBrowserTabsChatThroughTheDemoPage() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.chromium),
            "\(Self.chromium) is missing: install Debian's chromium (apt-get install chromium; scripts/test.sh does it)")
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
              - path: /chat
                room: lobby
                announce: true
              - path: /
                static: etc/www

            """))
        defer { harness.stop() }
        let profile = FileManager.default.temporaryDirectory
            .appendingPathComponent("wsgate-chromium-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        defer {
            // Backstop: the script kills chromium itself; if the script was killed first, kill its group here.
            if let text = try? String(contentsOfFile: profile + "/chromium.pid", encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 {
                kill(-pid, SIGKILL)
            }
            try? FileManager.default.removeItem(atPath: profile)
        }
        let screenshot = ProcessInfo.processInfo.environment["WSGATE_CHAT_SCREENSHOT"] ?? ""
        let run = try runPython(
            Self.script, [Self.chromium, String(harness.port), profile, screenshot], timeout: 90)
        let line = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let result = try #require(
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            "no JSON from the CDP script (status \(run.status)); stdout: \(run.stdout) stderr: \(run.stderr)")
        let report = "\(line)\nstderr: \(run.stderr)"
        #expect(result["error"] == nil, "\(report)")
        #expect(result["ok"] as? Bool == true, "\(report)")
        #expect(result["title"] as? String == "wsgate chat", "\(report)")
        let url = "ws://127.0.0.1:\(harness.port)/chat"
        #expect(result["stateA"] as? String == "connected to \(url)", "\(report)")
        #expect(result["stateB"] as? String == "connected to \(url)", "\(report)")
        let nonce = result["nonce"] as? String ?? "?"
        let fromA = "alice: hello from tab A \(nonce)"
        let fromB = "bob: hi back from tab B \(nonce)"
        let fromH = "legacy: hello from hixie-76 \(nonce)"
        // The room includes the sender: both tabs show every line, in the same order, the hixie-76
        // member's too; and the hixie-76 member gets the tabs' lines.
        #expect(result["logA"] as? [String] == [fromA, fromB, fromH], "\(report)")
        #expect(result["logB"] as? [String] == [fromA, fromB, fromH], "\(report)")
        #expect(result["hixieGot"] as? [String] == [fromA, fromB, fromH], "\(report)")
        // Chromium negotiated permessage-deflate (the page shows WebSocket.extensions), with the
        // room's server_no_context_takeover.
        #expect((result["extA"] as? String)?.hasPrefix("permessage-deflate") == true, "\(report)")
        #expect((result["extA"] as? String)?.contains("server_no_context_takeover") == true, "\(report)")
        // The notices are apart from the chat and name the member's dialect; the count follows them.
        #expect((result["noticesB"] as? [String])?.contains("* a hixie-76 member joined lobby (3 now)") == true, "\(report)")
        #expect(result["membersB"] as? String == "3", "\(report)")
        // The page clears its input once the message is sent.
        #expect(result["a_to_b_input_after_send"] as? String == "", "\(report)")
        #expect(result["b_to_a_input_after_send"] as? String == "", "\(report)")
        #expect(result["chromium_exit"] is Int, "chromium still running after the script: \(report)")
    }

    /// The CDP driver. Arguments: chromium path, gateway port, profile folder, screenshot path ("" for none).
    /// Prints one JSON object on its last line of stdout.
    static let script = #"""
import asyncio, base64, json, os, shutil, signal, subprocess, sys, tempfile, time, urllib.request
import websockets

chromium, port, profile, screenshot = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
base = "http://127.0.0.1:%d/" % port
result = {"ok": False, "steps": []}
browser = None
# runPython's deadline sends SIGTERM: turn it into an exception so `finally` still kills chromium.
def on_sigterm(*_):
    raise SystemExit("SIGTERM (deadline of the test)")


signal.signal(signal.SIGTERM, on_sigterm)


def step(text):
    result["steps"].append("%.2fs %s" % (time.monotonic() - started, text))


def devtools_port(deadline):
    """The DevTools port chromium wrote to <profile>/DevToolsActivePort (first line)."""
    path = os.path.join(profile, "DevToolsActivePort")
    while time.monotonic() < deadline:
        if browser.poll() is not None:
            raise RuntimeError("chromium exited with status %s before DevTools was up" % browser.returncode)
        try:
            with open(path) as f:
                first = f.readline().strip()
            if first:
                return int(first)
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise RuntimeError("no DevToolsActivePort within 20 s")


def http_json(devport, path, method="GET"):
    request = urllib.request.Request("http://127.0.0.1:%d%s" % (devport, path), method=method)
    with urllib.request.urlopen(request, timeout=5) as reply:
        return json.loads(reply.read())


class Page:
    """One CDP session over a page's own websocket; calls are sequential, events are ignored."""

    def __init__(self, name, target):
        self.name, self.target, self.next_id = name, target, 0

    async def open(self):
        self.ws = await asyncio.wait_for(
            websockets.connect(self.target["webSocketDebuggerUrl"], max_size=None, open_timeout=5), 6)

    async def call(self, method, params=None, timeout=5):
        self.next_id += 1
        ident = self.next_id
        await self.ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))

        async def reply():
            while True:
                message = json.loads(await self.ws.recv())
                if message.get("id") == ident:
                    return message
        message = await asyncio.wait_for(reply(), timeout)
        if "error" in message:
            raise RuntimeError("%s %s: %s" % (self.name, method, message["error"]))
        return message["result"]

    async def eval(self, expression):
        reply = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in reply:
            raise RuntimeError("%s: %s threw %s" % (self.name, expression, reply["exceptionDetails"]))
        return reply["result"].get("value")

    async def wait_for(self, expression, seconds, what):
        deadline = time.monotonic() + seconds
        last_error = None
        while True:
            try:  # while the tab navigates, it may have no execution context yet: keep polling
                value = await self.eval(expression)
                if value:
                    return value
            except RuntimeError as error:
                last_error = error
            if time.monotonic() > deadline:
                raise RuntimeError("%s: %s not seen within %g s (last error: %s; url: %s)" % (
                    self.name, what, seconds, last_error, self.target.get("url")))
            await asyncio.sleep(0.05)

    async def state(self):
        return await self.eval("(document.getElementById('state') || {}).textContent || ''")

    async def log(self):
        return await self.eval("Array.from(document.querySelectorAll('#log li'), li => li.textContent)")

    async def notices(self):
        return await self.eval("Array.from(document.querySelectorAll('#notices li'), li => li.textContent)")


    async def send(self, name, text):
        # Types into the inputs and clicks Send, as a person would; the page's onsubmit does the rest.
        return await self.eval(
            "(() => { document.getElementById('name').value = %s;"
            " document.getElementById('text').value = %s;"
            " document.querySelector('#form button').click();"
            " return document.getElementById('text').value; })()" % (json.dumps(name), json.dumps(text)))


class Hixie76:
    """A hixie-76 member (draft-76's own example keys), as a Safari 5-era browser would join."""

    async def open(self, port):
        self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        head = ("GET /chat HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
                "Origin: http://127.0.0.1:%d\r\nSec-WebSocket-Key1: 4 @1  46546xW%%0l 1 5\r\n"
                "Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n" % (port, port))
        self.writer.write(head.encode() + b"^n:ds[4U")
        response = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 5)
        token = await asyncio.wait_for(self.reader.readexactly(16), 5)
        if not response.startswith(b"HTTP/1.1 101") or token != b"8jKS'y:G*Co,Wxa-":
            raise RuntimeError("hixie-76 handshake failed: %r %r" % (response, token))
        self.received = []
        self.task = asyncio.ensure_future(self.read())

    async def read(self):
        while True:
            frame = await self.reader.readuntil(b"\xff")
            self.received.append(frame[1:-1].decode())

    def send(self, text):
        self.writer.write(b"\x00" + text.encode() + b"\xff")

async def exchange(sender, receiver, name, text, key):
    line = "%s: %s" % (name, text)
    t0 = time.monotonic()
    left = await sender.send(name, text)
    result[key + "_input_after_send"] = left
    await receiver.wait_for("document.getElementById('log').textContent.includes(%s)" % json.dumps(line),
                            10, "message %r" % line)
    result[key + "_ms"] = round((time.monotonic() - t0) * 1000)
    step("%s saw %r" % (receiver.name, line))


async def main(devport):
    result["browser"] = http_json(devport, "/json/version").get("Browser")
    tabs = []
    try:
        await chat(devport, tabs)
    finally:
        for tab in tabs:
            await asyncio.wait_for(tab.ws.close(), 2)


async def chat(devport, tabs):
    for name in ("A", "B"):
        target = http_json(devport, "/json/new?" + base, method="PUT")
        tab = Page(name, target)
        await tab.open()
        tabs.append(tab)
    step("two tabs open on " + base)
    a, b = tabs
    for tab in tabs:
        await tab.wait_for(
            "((document.getElementById('state') || {}).textContent || '').startsWith('connected')",
            15, "'connected' in #state")
        result["state" + tab.name] = await tab.state()
    result["title"] = await a.eval("document.title")
    result["extA"] = await a.eval("document.getElementById('ext').textContent")
    step("both tabs connected")
    hixie = Hixie76()
    await hixie.open(port)
    for tab in tabs:
        await tab.wait_for("document.getElementById('notices').textContent.includes('a hixie-76 member joined lobby (3 now)')",
                           10, "the hixie-76 member's notice")
    step("a hixie-76 member joined")
    nonce = "%d" % (time.time_ns() % 1000000007)
    await exchange(a, b, "alice", "hello from tab A " + nonce, "a_to_b")
    await exchange(b, a, "bob", "hi back from tab B " + nonce, "b_to_a")
    line = "legacy: hello from hixie-76 " + nonce
    hixie.send(line)
    for tab in tabs:
        await tab.wait_for("document.getElementById('log').textContent.includes(%s)" % json.dumps(line), 10, "the hixie-76 line")
    deadline = time.monotonic() + 5
    chat_lines = lambda: [text for text in hixie.received if not text.startswith("*")]
    while len(chat_lines()) < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    result["hixieGot"] = chat_lines()
    result["logA"] = await a.log()
    result["logB"] = await b.log()
    result["noticesB"] = await b.notices()
    result["membersB"] = await b.eval("document.getElementById('members').textContent")
    hixie.task.cancel()
    hixie.writer.close()
    result["nonce"] = nonce
    if screenshot:
        shot = await b.call("Page.captureScreenshot", {"format": "png"}, timeout=10)
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        step("screenshot of tab B in " + screenshot)
    result["ok"] = True


started = time.monotonic()
try:
    browser = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
         "--user-data-dir=" + profile, "--no-first-run", "--no-default-browser-check", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(profile, "chromium-stderr.txt"), "wb"),
        start_new_session=True)  # its own process group: the kill below takes the renderers too
    with open(os.path.join(profile, "chromium.pid"), "w") as f:
        f.write(str(browser.pid))
    devport = devtools_port(time.monotonic() + 20)
    step("chromium up, DevTools on port %d" % devport)
    asyncio.run(asyncio.wait_for(main(devport), 60))
except BaseException as error:  # report, never hang: the Swift side asserts on the JSON
    result["error"] = "%s: %s" % (type(error).__name__, error)
finally:
    if browser is not None:
        # SIGTERM to the whole group, up to 5 s to exit, then SIGKILL for whatever is left of it.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(browser.pid, sig)
            except ProcessLookupError:
                pass
            try:
                browser.wait(5)
            except subprocess.TimeoutExpired:
                pass
        result["chromium_exit"] = browser.poll()
        step("chromium stopped")
        try:
            with open(os.path.join(profile, "chromium-stderr.txt"), errors="replace") as f:
                result["chromium_stderr_tail"] = f.read()[-1500:]
        except OSError:
            pass
    print(json.dumps(result))
"""#
}
