import ArgumentParser
import Dispatch
import Foundation
import Logging
import WSGateConfig
import WSGateCore

/// `wsgate [--config FILE]` runs the gateway; `wsgate check [--config FILE]` validates a configuration.
@main
struct WSGateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wsgate",
        abstract: "A multi-protocol WebSocket gateway: RFC 6455 and hixie-75/76, ws:// and wss://, rooms, bridges.",
        version: WSGateVersion.description,
        subcommands: [Run.self, Check.self, Reference.self],
        defaultSubcommand: Run.self
    )
}

/// Options shared by the subcommands.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The configuration file.")
    var config: String = "etc/wsgate.yaml"
}

/// Runs the gateway until SIGTERM or SIGINT; SIGHUP reloads the configuration.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the gateway (the default).")

    @OptionGroup var options: ConfigOption

    func run() throws {
        let configuration: WSGateConfiguration
        do {
            configuration = try ConfigLoader.load(path: self.options.config)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
        let level = Logger.Level(rawValue: configuration.logLevel.rawValue) ?? .info
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let logger = Logger(label: "wsgate")
        ResourceLimits.raiseOpenFilesLimit(logger: logger)
        ResourceLimits.tuneAllocator()
        let gateway: Gateway
        do {
            gateway = try Gateway(configuration: configuration, logger: logger)
            try gateway.start()
        } catch {
            logger.critical("cannot start", metadata: ["wsgate.error": "\(error)"])
            throw ExitCode(1)
        }
        logger.info("started", metadata: ["wsgate.config": "\(self.options.config)", "wsgate.summary": "\(configuration.summary)"])
        let notifier = SystemdNotifier()
        SignalLoop.run(gateway: gateway, configPath: self.options.config, notifier: notifier, logger: logger)
    }
}

/// Validates a configuration, printing every problem.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate the configuration; exit 1 on any problem.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        do {
            let configuration = try ConfigLoader.load(path: self.options.config)
            let problems = Preflight.problems(in: configuration)
            if !problems.isEmpty {
                for problem in problems { print("\(self.options.config): \(problem)") }
                throw ExitCode(1)
            }
            print("\(self.options.config): ok (\(configuration.summary))")
        } catch let errors as ConfigErrors {
            for error in errors.errors { print(error.description) }
            throw ExitCode(1)
        }
    }
}

/// Prints the configuration reference (Markdown), generated from the key table.
struct Reference: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the configuration reference as Markdown.")

    func run() throws {
        print(ConfigurationReference.referenceMarkdown(), terminator: "")
    }
}
