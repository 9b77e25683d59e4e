// Serializers and compression of the kombu layer, with kombu's wire names so kombu peers interoperate.
//
//   serializer  content_type               content_encoding
//   "json"      application/json           utf-8     the body is JSON text the caller wrote
//   "text"      text/plain                 utf-8     (also what "" means: kombu's choice for a str body)
//   "raw"       application/data           binary
//
// Compression "zlib" (aliases "gzip", kombu's names) compresses the body with zlib (RFC 1950, what Python's
// zlib.compress writes) and sets the header compression = "application/x-gzip"; the content type stays
// the serializer's. decompress() undoes it, bounded by max_size (untrusted input).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace squall::amqp::messaging {

// The content type and encoding a serializer gives a message (the table above).
struct SerializedType {
    // The message's content_type and content_encoding properties.
    std::string content_type;
    std::string content_encoding;
};

// UsageError for an unknown serializer name.
SerializedType serializer_type(std::string_view serializer);

// The value of the compression header for zlib.
inline constexpr const char* kZlibContentType = "application/x-gzip";
// decompress()'s default bound on the decompressed size (512 MiB).
inline constexpr std::size_t kDefaultMaxDecompressedSize = 512ull * 1024 * 1024;

// The header value for a compression name ("zlib", "gzip", or the MIME type itself); UsageError otherwise.
std::string compression_content_type(std::string_view compression);
// The body compressed with zlib; UsageError for an unknown compression name.
std::string compress(std::string_view body, std::string_view compression);
// DecodeError for an unknown compression, corrupt data, or output beyond max_size.
std::string decompress(std::string_view body, std::string_view compression_type,
                       std::size_t max_size = kDefaultMaxDecompressedSize);

}  // namespace squall::amqp::messaging
