// Decompressor: streaming inflate of a gzip or deflate Content-Encoding, fed body pieces as they arrive.
//
//   Decompressor inflater(Decompressor::encoding_of("gzip").value(), {.max_output_size = 100 << 20},
//                         [&](std::string_view out) { body += out; });
//   inflater.feed(piece);   // for each body piece
//   inflater.finish();      // at the end of the body: throws if the stream was cut short
//
// "deflate" is accepted both zlib-wrapped (RFC 9110) and raw (what some servers send and browsers accept):
// the first bytes decide. Corrupt input throws ProtocolError; output beyond max_output_size (a
// decompression bomb) throws ProtocolError before the excess reaches the sink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace squall::http {

// The content codings squall inflates (deflate: zlib-wrapped or raw, whichever the body is).
enum class ContentEncoding { gzip, deflate };

// Limits of a Decompressor.
struct DecompressorOptions {
    std::size_t max_output_size = 100 * 1024 * 1024;  // inflated bytes allowed in total (a zip bomb bound)
};

// Incremental gzip / deflate decoding of a response body.
class Decompressor {
public:
    using Sink = std::function<void(std::string_view)>;  // receives the inflated bytes, in order

    // gzip for "gzip" and "x-gzip", deflate for "deflate" (case-insensitive, surrounding spaces ignored);
    // std::nullopt for anything else (identity, br, several codings...), which is passed through undecoded.
    static std::optional<ContentEncoding> encoding_of(std::string_view content_encoding) noexcept;

    // Output goes to sink as it is produced.
    Decompressor(ContentEncoding encoding, DecompressorOptions options, Sink sink);
    ~Decompressor();
    Decompressor(const Decompressor&) = delete;
    Decompressor& operator=(const Decompressor&) = delete;

    // Inflates `data`, handing the output to the sink in pieces. Throws ProtocolError on corrupt data, on
    // bytes after the end of a deflate stream, or when the output would exceed max_output_size.
    void feed(std::string_view data);
    // The body ended: throws ProtocolError if the compressed stream is incomplete. An empty body is
    // accepted (a 200 with "Content-Encoding: gzip" and no bytes).
    void finish();

    // Compressed bytes fed and inflated bytes produced so far.
    std::uint64_t total_in() const noexcept { return total_in_; }
    std::uint64_t total_out() const noexcept { return total_out_; }

private:
    struct Stream;
    void start(bool raw_deflate);

    ContentEncoding encoding_;
    DecompressorOptions options_;
    Sink sink_;
    std::unique_ptr<Stream> stream_;  // created at the first byte (deflate needs it to pick the wrapper)
    bool stream_ended_ = false;
    std::string header_;  // deflate: a first byte held until the second decides the wrapper
    std::uint64_t total_in_ = 0;
    std::uint64_t total_out_ = 0;
};

}  // namespace squall::http
