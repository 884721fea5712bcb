import Logging
import NIOCore
import WSGateWire

/// The dialect-neutral end of a WebSocket connection: normalized messages in, `OutboundFrame`s out
/// (the frame handler below owns the framing).
///
/// For an echo it writes each message back, flushing once per read burst, and stops reading while
/// the client does not take what it is sent (backpressure). For a room it joins on
/// `handlerAdded` (before the 101 is flushed, so nothing sent after the client reads its 101 is
/// missed), publishes what the client sends through the room's broker, writes what the room
/// delivers, and closes a member whose unsent bytes pass `send_queue_bytes` with 1008 — never
/// skipping it silently. It leaves the room on the connection's `WebSocketClose` signal.
final class WebSocketSessionHandler: ChannelInboundHandler, RoomMemberSink, FrameWriterUser, MessageReceiver {
    typealias InboundIn = GatewayMessage
    typealias OutboundOut = OutboundFrame

    // One per connection: fields ordered so that none pads (the small ones last).
    private let target: SessionTarget
    private let rooms: RoomRegistry
    private let metrics: GatewayMetrics
    private let logger: Logger
    private var context: ChannelHandlerContext?
    /// The connection's frame handler, written to directly; set when the pipeline is built.
    /// Without one (a pipeline of its own in tests) frames go down the pipeline.
    var frameWriter: FrameWriter?
    private var member: RoomMember?
    private var room: Room?
    /// Room frames the channel has not taken yet (its own buffer holds half of `send_queue_bytes`).
    /// (Created on the first frame queued: most connections never queue one.)
    private var queued: CircularBuffer<ByteBuffer>?
    private var queuedBytes = 0
    private let queueLimit: Int
    private let dialect: WebSocketDialect
    private var needsFlush = false
    /// Whether it takes room deliveries: from just before `join` until `member.sink` is cleared
    /// (the same, without a weak load per delivery).
    private var receivesDeliveries = false
    /// The channel's writability, kept from `channelWritabilityChanged` (NIO fires it as soon as a
    /// write crosses a watermark): read per delivery without going through the channel.
    private var channelIsWritable = true

    /// `sendQueueBytes`: the route's `send_queue_bytes`; the channel's write watermark holds half of it.
    init(
        dialect: WebSocketDialect, target: SessionTarget, sendQueueBytes: Int, rooms: RoomRegistry,
        metrics: GatewayMetrics, logger: Logger
    ) {
        self.queueLimit = max(1, sendQueueBytes - Self.channelShare(of: sendQueueBytes))
        self.dialect = dialect
        self.target = target
        self.rooms = rooms
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.channelIsWritable = context.channel.isWritable
        if case .room(let settings) = self.target {
            let (name, historyLimit, includeSender, announce) = (settings.name, settings.historyLimit, settings.includeSender, settings.announce)
            let member = RoomMember(
                id: MemberIDs.next(), eventLoop: context.eventLoop, dialect: self.dialect, family: settings.family ?? FrameFamily(self.dialect),
                includeSender: includeSender, announces: announce, sink: self)
            self.member = member
            self.receivesDeliveries = true
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
        self.frameWriter = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.leaveRoom()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is WebSocketClose {
            // The connection is closing: a member being closed sends and receives nothing more.
            self.leaveRoom()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received(Self.unwrapInboundIn(data), context: context)
    }

    func receiveMessage(_ message: GatewayMessage) {
        guard let context = self.context else { return }
        self.received(message, context: context)
    }

    private func received(_ message: GatewayMessage, context: ChannelHandlerContext) {
        switch self.target {
        case .echo:
            self.writeFrame(OutboundFrame(message), context: context)
            self.metrics.messagesOut.add(1)
            self.needsFlush = true
        case .room:
            if let room = self.room, let member = self.member {
                self.rooms.publish(message, from: member, in: room)
            }
        }
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
        self.channelIsWritable = isWritable
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
        guard self.receivesDeliveries, let context = self.context else { return }
        if self.queued?.isEmpty ?? true, self.channelIsWritable {
            self.writeFrame(.framed(frame), context: context)
            return
        }
        // The channel holds its half of send_queue_bytes: the rest waits here, not yet begun.
        if self.queued == nil { self.queued = CircularBuffer(initialCapacity: 16) }
        self.queued!.append(frame)
        self.queuedBytes += frame.readableBytes
        if self.queuedBytes > self.queueLimit { self.closeAsSlowConsumer(context: context) }
    }

    func roomFlush() {
        guard self.receivesDeliveries, let context = self.context else { return }
        context.flush()
    }

    func roomClose(code: WebSocketCloseCode, reason: String) {
        guard let context = self.context else { return }
        self.queued = nil
        self.queuedBytes = 0
        guard let member = self.member, member.sink != nil else { return }  // closed already
        if case .room(let settings) = self.target {
            let name = settings.name
            self.logger.info("room member closed", metadata: ["wsgate.room": "\(name)", "wsgate.code": "\(code.rawValue)", "wsgate.reason": "\(reason)"])
        }
        self.stopDeliveries(to: member)
        if let room = self.room {
            self.room = nil
            self.rooms.leave(member, room: room)
        }
        context.triggerUserOutboundEvent(WebSocketCloseRequest(code: code, reason: reason), promise: nil)
    }

    /// Moves queued frames into the channel while it takes them.
    private func drainQueue(context: ChannelHandlerContext) {
        guard !(self.queued?.isEmpty ?? true) else { return }
        while context.channel.isWritable, let frame = self.queued?.popFirst() {
            self.queuedBytes -= frame.readableBytes
            self.writeFrame(.framed(frame), context: context)
        }
        context.flush()
    }

    /// A member whose unsent bytes passed `send_queue_bytes`: counted, out of the room, closed 1008.
    /// Frames queued but not begun are discarded in favour of the close frame (docs/SPEC.md "Fine print").
    private func closeAsSlowConsumer(context: ChannelHandlerContext) {
        self.queued = nil
        self.queuedBytes = 0
        guard let member = self.member, member.sink != nil else { return }  // closed already
        self.metrics.slowConsumerCloses.add(1)
        if case .room(let settings) = self.target {
            let name = settings.name
            self.logger.warning("slow consumer closed", metadata: ["wsgate.room": "\(name)"])
        }
        self.stopDeliveries(to: member)  // receives nothing more; during `join`, handlerAdded takes it out again
        if let room = self.room {
            self.room = nil
            self.rooms.leave(member, room: room)
        }
        context.triggerUserOutboundEvent(WebSocketCloseRequest(code: .policyViolation, reason: "slow consumer"), promise: nil)
    }

    /// The part of `send_queue_bytes` left in the channel's own buffer (its high watermark).
    static func channelShare(of sendQueueBytes: Int) -> Int {
        max(2, sendQueueBytes / 2)
    }

    /// It takes no more deliveries.
    private func stopDeliveries(to member: RoomMember) {
        member.sink = nil
        self.receivesDeliveries = false
    }

    private func leaveRoom() {
        guard let room = self.room, let member = self.member else { return }
        self.room = nil
        self.stopDeliveries(to: member)
        self.rooms.leave(member, room: room)
    }
}

@available(*, unavailable)
extension WebSocketSessionHandler: Sendable {}
