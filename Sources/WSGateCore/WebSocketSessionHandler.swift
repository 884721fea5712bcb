import Logging
import NIOCore
import WSGateWire

/// What a WebSocket connection is for, once open: a room or an echo (bridges have their own handler).
enum SessionTarget {
    /// Every message straight back to its sender.
    case echo
    /// Membership of a room.
    case room(name: String, historyLimit: Int, includeSender: Bool, announce: Bool)
}

/// The dialect-neutral end of a WebSocket connection: normalized messages in, encoded frames out.
///
/// For an echo it writes each message back in the sender's dialect, flushing once per read burst,
/// and stops reading while the client does not take what it is sent (backpressure). For a room it
/// joins on `handlerAdded` (before the 101 is flushed, so nothing sent after the client reads its
/// 101 is missed), publishes what the client sends, writes what the room delivers, and closes a
/// member whose unsent bytes pass `send_queue_bytes` with 1008 — never skipping it silently.
final class WebSocketSessionHandler: ChannelInboundHandler, RoomMemberSink {
    typealias InboundIn = GatewayMessage
    typealias OutboundOut = ByteBuffer

    private let dialect: WebSocketDialect
    private let target: SessionTarget
    private let rooms: RoomRegistry
    private let metrics: GatewayMetrics
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var member: RoomMember?
    private var room: Room?
    private var needsFlush = false
    /// Room frames the channel has not taken yet (its own buffer holds half of `send_queue_bytes`).
    private var queued = CircularBuffer<ByteBuffer>(initialCapacity: 0)
    private var queuedBytes = 0
    private let queueLimit: Int

    /// `sendQueueBytes`: the route's `send_queue_bytes`; the channel's write watermark holds half of it.
    init(dialect: WebSocketDialect, target: SessionTarget, sendQueueBytes: Int, rooms: RoomRegistry, metrics: GatewayMetrics, logger: Logger) {
        self.queueLimit = max(1, sendQueueBytes - Self.channelShare(of: sendQueueBytes))
        self.dialect = dialect
        self.target = target
        self.rooms = rooms
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if case .room(let name, let historyLimit, let includeSender, let announce) = self.target {
            let member = RoomMember(
                id: MemberIDs.next(), eventLoop: context.eventLoop, isHixie: self.dialect.isHixie,
                includeSender: includeSender, announces: announce, sink: self)
            self.member = member
            self.room = self.rooms.join(member, room: name, historyLimit: historyLimit)
            if member.sink == nil, let room = self.room {
                // The history replay alone passed send_queue_bytes: out again.
                self.room = nil
                self.rooms.leave(member, room: room)
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.leaveRoom()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.leaveRoom()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = Self.unwrapInboundIn(data)
        if case .close = message {
            self.leaveRoom()
            return
        }
        switch self.target {
        case .echo:
            self.writeEcho(message, context: context)
            self.metrics.messagesOut.add(1)
            self.needsFlush = true
        case .room:
            if let room = self.room, let member = self.member {
                room.publish(message, from: member.id)
            }
        }
    }

    /// Payloads from this size on are echoed as a header plus the received buffer (gathered by writev, or
    /// one small TLS record more) instead of being copied behind a new header.
    static let separateHeaderThreshold = 8 * 1024

    private func writeEcho(_ message: GatewayMessage, context: ChannelHandlerContext) {
        let opcode: RFC6455FrameEncoder.Opcode
        switch message {
        case .text: opcode = .text
        case .binary: opcode = .binary
        case .close: opcode = .close
        }
        let payload = message.payload
        guard !self.dialect.isHixie, opcode != .close, payload.readableBytes >= Self.separateHeaderThreshold else {
            context.write(Self.wrapOutboundOut(MessageEncoding.frame(for: message, dialect: self.dialect)), promise: nil)
            return
        }
        // Back to back in one call: nothing can come between the header and its payload.
        context.write(Self.wrapOutboundOut(RFC6455FrameEncoder.header(opcode: opcode, payloadLength: payload.readableBytes)),
                      promise: nil)
        context.write(Self.wrapOutboundOut(payload), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.logger.debug("connection error, closing", metadata: ["wsgate.error": "\(error)"])
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let isWritable = context.channel.isWritable
        switch self.target {
        case .echo:
            // Backpressure: read no more from a client that does not read what we send it.
            context.channel.setOption(ChannelOptions.autoRead, value: isWritable).whenFailure { _ in }
        case .room:
            if isWritable { self.drainQueue(context: context) }
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: RoomMemberSink

    // A member is joined while its sink is set: from before `join` (which writes the history replay
    // through `welcome`, before `self.room` is assigned) until `leaveRoom` clears it.
    func roomWrite(_ frame: ByteBuffer) {
        guard self.member?.sink != nil, let context = self.context else { return }
        if self.queued.isEmpty && context.channel.isWritable {
            context.write(Self.wrapOutboundOut(frame), promise: nil)
            return
        }
        // The channel holds its half of send_queue_bytes: the rest waits here, not yet begun.
        self.queued.append(frame)
        self.queuedBytes += frame.readableBytes
        if self.queuedBytes > self.queueLimit { self.closeAsSlowConsumer(context: context) }
    }

    func roomFlush() {
        guard self.member?.sink != nil, let context = self.context else { return }
        context.flush()
    }

    /// Moves queued frames into the channel while it takes them.
    private func drainQueue(context: ChannelHandlerContext) {
        guard !self.queued.isEmpty else { return }
        while context.channel.isWritable, let frame = self.queued.popFirst() {
            self.queuedBytes -= frame.readableBytes
            context.write(Self.wrapOutboundOut(frame), promise: nil)
        }
        context.flush()
    }

    /// A member whose unsent bytes passed `send_queue_bytes`: counted, out of the room, closed 1008.
    /// Frames queued but not begun are discarded in favour of the close frame (SPEC "Fine print").
    private func closeAsSlowConsumer(context: ChannelHandlerContext) {
        self.queued.removeAll()
        self.queuedBytes = 0
        guard let member = self.member, member.sink != nil else { return }  // closed already
        self.metrics.slowConsumerCloses.add(1)
        if case .room(let name, _, _, _) = self.target {
            self.logger.warning("slow consumer closed", metadata: ["wsgate.room": "\(name)"])
        }
        member.sink = nil  // receives nothing more; during `join`, handlerAdded takes it out again
        if let room = self.room {
            self.room = nil
            self.rooms.leave(member, room: room)
        }
        context.triggerUserOutboundEvent(WebSocketCloseRequest(code: 1008, reason: "slow consumer"), promise: nil)
    }

    /// The part of `send_queue_bytes` left in the channel's own buffer (its high watermark).
    static func channelShare(of sendQueueBytes: Int) -> Int {
        max(2, sendQueueBytes / 2)
    }

    private func leaveRoom() {
        guard let room = self.room, let member = self.member else { return }
        self.room = nil
        member.sink = nil
        self.rooms.leave(member, room: room)
    }
}

@available(*, unavailable)
extension WebSocketSessionHandler: Sendable {}

/// Process-wide unique member identifiers.
enum MemberIDs {
    private static let counter = MetricCell()
    static func next() -> UInt64 {
        UInt64(counter.increment())
    }
}
