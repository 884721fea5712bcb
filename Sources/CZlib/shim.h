#ifndef WSGATE_CZLIB_SHIM_H
#define WSGATE_CZLIB_SHIM_H
// The system zlib (zlib1g-dev), for permessage-deflate (RFC 7692).
// Swift cannot import function-like macros: deflateInit2 and inflateInit2 are wrapped here, nothing else.
#include <zlib.h>

static inline int czlib_deflate_init2(z_streamp strm, int level, int windowBits, int memLevel) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
static inline int czlib_inflate_init2(z_streamp strm, int windowBits) { return inflateInit2(strm, windowBits); }

#endif
