import Dispatch
import Foundation
import Logging
import WSGateConfig
import WSGateCore

/// Waits for signals: SIGTERM/SIGINT drain and exit 0, SIGHUP reloads the configuration. Under
/// systemd each step is announced (`RELOADING=1` … `READY=1`, `STOPPING=1`) and a `STATUS=` line
/// with the connection counts goes out every 10 s.
enum SignalLoop {
    static func run(gateway: Gateway, configPath: String, notifier: SystemdNotifier, logger: Logger) -> Never {
        let queue = DispatchQueue(label: "wsgate.signals")
        var sources: [DispatchSourceSignal] = []
        // libdispatch arms a signal source asynchronously, after `resume`: until then a signal set to
        // SIG_IGN is simply lost. Each source says when it is armed.
        let armed = DispatchGroup()
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                if sig == SIGHUP {
                    notifier.reloading()
                    Self.reload(gateway: gateway, configPath: configPath, logger: logger)
                    notifier.ready(status: Self.status(gateway))
                } else {
                    logger.info("signal received, draining", metadata: ["wsgate.signal": "\(sig == SIGTERM ? "SIGTERM" : "SIGINT")"])
                    notifier.stopping()
                    gateway.shutdown()
                    exit(0)
                }
            }
            armed.enter()
            source.setRegistrationHandler { armed.leave() }
            source.resume()
            sources.append(source)
        }
        // Ready only once the signals are handled: a SIGHUP right after READY=1 must reload, not be lost.
        _ = armed.wait(timeout: .now() + 5)
        notifier.ready(status: Self.status(gateway))
        let statusTimer = DispatchSource.makeTimerSource(queue: queue)
        if notifier.isEnabled {
            statusTimer.schedule(deadline: .now() + 10, repeating: 10)
            statusTimer.setEventHandler { notifier.status(Self.status(gateway)) }
            statusTimer.resume()
        }
        withExtendedLifetime((sources, statusTimer)) { dispatchMain() }
    }

    /// The `STATUS=` line: what is open now.
    static func status(_ gateway: Gateway) -> String {
        "\(gateway.metrics.connectionsOpen.load) connections open, \(gateway.openWebSocketCount) WebSockets"
    }

    static func reload(gateway: Gateway, configPath: String, logger: Logger) {
        do {
            let configuration = try ConfigLoader.load(path: configPath)
            let problems = Preflight.problems(in: configuration)
            guard problems.isEmpty else {
                for problem in problems { logger.error("reload refused", metadata: ["wsgate.problem": "\(problem)"]) }
                return
            }
            try gateway.reload(configuration)
        } catch let errors as ConfigErrors {
            for error in errors.errors { logger.error("reload refused", metadata: ["wsgate.problem": "\(error.description)"]) }
            logger.error("configuration kept", metadata: ["wsgate.errors": "\(errors.errors.count)"])
        } catch {
            logger.error("reload failed, configuration kept", metadata: ["wsgate.error": "\(error)"])
        }
    }
}
