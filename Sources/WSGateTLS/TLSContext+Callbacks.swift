internal import COpenSSL

// C callbacks installed on server contexts. They capture nothing; state arrives through their arguments.

/// SNI: switch the connection to the `SSL_CTX` whose name matches the client's server name exactly
/// (case-insensitive). No match, or no name: keep the default certificate.
let tlsServerNameCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32 = {
    ssl, _, argument in
    guard let ssl, let argument, let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else {
        return SSL_TLSEXT_ERR_OK
    }
    let context = Unmanaged<TLSContext>.fromOpaque(argument).takeUnretainedValue()
    if let match = context.sniContext(for: String(cString: name)) {
        SSL_set_SSL_CTX(ssl, match.pointer)
    }
    return SSL_TLSEXT_ERR_OK
}

/// ALPN: select `http/1.1` if the client offers it; otherwise carry on without ALPN.
let tlsALPNSelectCallback: @convention(c) (
    OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
    UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?
) -> Int32 = { _, out, outLength, offered, offeredLength, _ in
    guard let out, let outLength, let offered else { return SSL_TLSEXT_ERR_NOACK }
    let wanted = Array(TLSContext.serverALPN.utf8)
    var index = 0
    let end = Int(offeredLength)
    while index < end {
        let length = Int(offered[index])
        let start = index + 1
        guard start + length <= end else { break }
        if length == wanted.count && (0..<length).allSatisfy({ offered[start + $0] == wanted[$0] }) {
            out.pointee = offered + start  // points into the client's list, which outlives the callback
            outLength.pointee = UInt8(length)
            return SSL_TLSEXT_ERR_OK
        }
        index = start + length
    }
    return SSL_TLSEXT_ERR_NOACK
}
