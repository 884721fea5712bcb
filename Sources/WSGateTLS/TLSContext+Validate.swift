internal import COpenSSL

extension TLSContext {
    /// Checks a certificate/key pair without building a context, for `wsgate check` and config reloads.
    /// Returns one human sentence per problem (empty: fine): a missing or unreadable file (with its path),
    /// a file that is not PEM, a key that does not match the certificate, a certificate that has expired or
    /// is not yet valid.
    public static func validate(certificatePath: String, keyPath: String) -> [String] {
        ERR_clear_error()
        var problems: [String] = []
        let certificate = Self.readPEM(path: certificatePath, what: "certificate", problems: &problems) {
            PEM_read_bio_X509($0, nil, nil, nil)
        }
        let key = Self.readPEM(path: keyPath, what: "private key", problems: &problems) {
            PEM_read_bio_PrivateKey($0, nil, nil, nil)
        }
        defer {
            X509_free(certificate)
            EVP_PKEY_free(key)
        }
        if let certificate {
            if X509_cmp_current_time(X509_get0_notAfter(certificate)) < 0 {
                problems.append("certificate '\(certificatePath)' expired on \(Self.text(X509_get0_notAfter(certificate)))")
            }
            if X509_cmp_current_time(X509_get0_notBefore(certificate)) > 0 {
                problems.append(
                    "certificate '\(certificatePath)' is not valid before \(Self.text(X509_get0_notBefore(certificate)))")
            }
            if let key, X509_check_private_key(certificate, key) != 1 {
                let reasons = OpenSSLErrorQueue.drain().joined(separator: "; ")
                problems.append("private key '\(keyPath)' does not match certificate '\(certificatePath)'"
                                + (reasons.isEmpty ? "" : " (\(reasons))"))
            }
        }
        ERR_clear_error()
        return problems
    }

    /// Opens `path` and reads the first PEM object with `read`; on failure appends a problem and returns nil.
    private static func readPEM<T>(
        path: String, what: String, problems: inout [String], read: (OpaquePointer) -> T?
    ) -> T? {
        guard let bio = BIO_new_file(path, "r") else {
            let reasons = OpenSSLErrorQueue.drain(orElse: "cannot open").joined(separator: "; ")
            problems.append("\(what) file '\(path)' cannot be read (\(reasons))")
            return nil
        }
        defer { BIO_free(bio) }
        guard let value = read(bio) else {
            let reasons = OpenSSLErrorQueue.drain(orElse: "no PEM data").joined(separator: "; ")
            problems.append("\(what) file '\(path)' holds no PEM \(what) (\(reasons))")
            return nil
        }
        return value
    }

    /// An `ASN1_TIME` as OpenSSL prints it, e.g. `Jan  1 00:00:00 2020 GMT`.
    private static func text(_ time: UnsafePointer<ASN1_TIME>?) -> String {
        guard let time, let bio = BIO_new(BIO_s_mem()) else { return "?" }
        defer { BIO_free(bio) }
        ASN1_TIME_print(bio, time)
        var bytes = [UInt8](repeating: 0, count: Int(gw_BIO_pending(bio)))
        let count = BIO_read(bio, &bytes, Int32(bytes.count))
        return String(decoding: bytes.prefix(max(0, Int(count))), as: UTF8.self)
    }
}
