#include "squall/amqp/messaging/compression.hpp"

#include <zlib.h>

#include "squall/amqp/messaging/errors.hpp"
#include "squall/coro/errors.hpp"

namespace squall::amqp::messaging {

SerializedType serializer_type(std::string_view serializer) {
    if (serializer == "json") return {"application/json", "utf-8"};
    if (serializer == "text" || serializer.empty()) return {"text/plain", "utf-8"};
    if (serializer == "raw") return {"application/data", "binary"};
    throw UsageError("messaging: unknown serializer '" + std::string(serializer) + "' (json, text or raw)");
}

std::string compression_content_type(std::string_view compression) {
    if (compression == "zlib" || compression == "gzip" || compression == kZlibContentType)
        return kZlibContentType;
    throw UsageError("messaging: unknown compression '" + std::string(compression) + "' (zlib)");
}

std::string compress(std::string_view body, std::string_view compression) {
    compression_content_type(compression);  // validates the name
    uLongf size = compressBound(static_cast<uLong>(body.size()));
    std::string out(size, '\0');
    int rc =
        compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(body.data()),
                  static_cast<uLong>(body.size()), Z_DEFAULT_COMPRESSION);
    if (rc != Z_OK) throw Error("messaging: zlib compression failed (" + std::to_string(rc) + ")");
    out.resize(size);
    return out;
}

std::string decompress(std::string_view body, std::string_view compression_type, std::size_t max_size) {
    if (compression_type != kZlibContentType && compression_type != "zlib" && compression_type != "gzip")
        throw DecodeError("messaging: unsupported compression '" + std::string(compression_type) + "'");
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK) throw DecodeError("messaging: zlib inflateInit failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
    zs.avail_in = static_cast<uInt>(body.size());
    std::string out;
    char chunk[16384];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        zs.next_out = reinterpret_cast<Bytef*>(chunk);
        zs.avail_out = sizeof chunk;
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&zs);
            throw DecodeError("messaging: corrupt zlib body (" + std::string(zs.msg ? zs.msg : "truncated") +
                              ")");
        }
        std::size_t produced = sizeof chunk - zs.avail_out;
        if (out.size() + produced > max_size) {
            inflateEnd(&zs);
            throw DecodeError("messaging: decompressed body exceeds " + std::to_string(max_size) + " bytes");
        }
        out.append(chunk, produced);
        if (rc == Z_OK && produced == 0 && zs.avail_in == 0) {
            inflateEnd(&zs);
            throw DecodeError("messaging: truncated zlib body");
        }
    }
    bool trailing = zs.avail_in != 0;
    inflateEnd(&zs);
    if (trailing) throw DecodeError("messaging: bytes after the end of the zlib body");
    return out;
}

}  // namespace squall::amqp::messaging
