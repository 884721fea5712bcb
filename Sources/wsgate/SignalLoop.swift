import Dispatch
import Foundation
import Logging
import WSGateConfig
import WSGateCore

/// Waits for signals: SIGTERM/SIGINT drain and exit 0, SIGHUP reloads the configuration.
enum SignalLoop {
    static func run(gateway: Gateway, configPath: String, logger: Logger) -> Never {
        let queue = DispatchQueue(label: "wsgate.signals")
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                if sig == SIGHUP {
                    Self.reload(gateway: gateway, configPath: configPath, logger: logger)
                } else {
                    logger.info("signal received, draining", metadata: ["wsgate.signal": "\(sig == SIGTERM ? "SIGTERM" : "SIGINT")"])
                    gateway.shutdown()
                    exit(0)
                }
            }
            source.resume()
            sources.append(source)
        }
        withExtendedLifetime(sources) { dispatchMain() }
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
