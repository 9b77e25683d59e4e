#include "squall/httpclient/decompressor.hpp"

#include <zlib.h>

#include <string>

#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/headers.hpp"

namespace squall::http {

namespace {
constexpr std::size_t kOutputChunk = 16 * 1024;

const char* name_of(ContentEncoding e) noexcept {
    return e == ContentEncoding::gzip ? "gzip" : "deflate";
}
}  // namespace

struct Decompressor::Stream {
    z_stream z{};
    bool initialized = false;
    ~Stream() {
        if (initialized) inflateEnd(&z);
    }
};

std::optional<ContentEncoding> Decompressor::encoding_of(std::string_view content_encoding) noexcept {
    auto e = detail::trim_ows(content_encoding);
    if (iequals(e, "gzip") || iequals(e, "x-gzip")) return ContentEncoding::gzip;
    if (iequals(e, "deflate")) return ContentEncoding::deflate;
    return std::nullopt;
}

Decompressor::Decompressor(ContentEncoding encoding, DecompressorOptions options, Sink sink)
    : encoding_(encoding), options_(options), sink_(std::move(sink)) {}

Decompressor::~Decompressor() = default;

void Decompressor::start(bool raw_deflate) {
    stream_ = std::make_unique<Stream>();
    // windowBits: 16+15 reads a gzip wrapper, 15 a zlib wrapper, -15 raw deflate.
    int window_bits =
        encoding_ == ContentEncoding::gzip ? 16 + MAX_WBITS : (raw_deflate ? -MAX_WBITS : MAX_WBITS);
    if (inflateInit2(&stream_->z, window_bits) != Z_OK) throw std::bad_alloc();
    stream_->initialized = true;
}

void Decompressor::feed(std::string_view data) {
    if (data.empty()) return;
    if (!stream_) {
        bool raw = false;
        if (encoding_ == ContentEncoding::deflate) {
            // Decide between zlib-wrapped and raw deflate on the first two bytes: a zlib header has
            // compression method 8 in CMF's low nibble, a window size nibble <= 7, and (CMF*256 + FLG) % 31
            // == 0. A wrong guess fails loudly as corrupt data, never silently.
            if (data.size() + header_.size() < 2) {
                header_.append(data.data(), data.size());
                total_in_ += data.size();
                return;
            }
            std::string first = header_;
            first.append(data.data(), 2 - header_.size());
            auto cmf = static_cast<unsigned char>(first[0]);
            auto flg = static_cast<unsigned char>(first[1]);
            raw = !((cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0);
        }
        start(raw);
        if (!header_.empty()) {
            std::string held = std::move(header_);
            header_.clear();
            total_in_ -= held.size();
            feed(held);
        }
    }
    if (stream_ended_) {
        // gzip allows several members back to back (RFC 1952); deflate ends at its final block.
        if (encoding_ != ContentEncoding::gzip) {
            throw ProtocolError("deflate response body has " + std::to_string(data.size()) +
                                " bytes after the end of the compressed stream");
        }
        inflateReset(&stream_->z);
        stream_ended_ = false;
    }
    z_stream& z = stream_->z;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    total_in_ += data.size();
    char out[kOutputChunk];
    while (true) {
        z.next_out = reinterpret_cast<Bytef*>(out);
        z.avail_out = sizeof(out);
        int rc = inflate(&z, Z_NO_FLUSH);
        std::size_t produced = sizeof(out) - z.avail_out;
        if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR) {
            throw ProtocolError(std::string("corrupt ") + name_of(encoding_) +
                                " response body: " + (z.msg ? z.msg : "inflate failed") + " (after " +
                                std::to_string(total_out_) + " decoded bytes)");
        }
        if (produced > options_.max_output_size - total_out_) {
            throw ProtocolError(std::string("decoded ") + name_of(encoding_) +
                                " body exceeds max_output_size of " +
                                std::to_string(options_.max_output_size) + " bytes (decompression bomb?)");
        }
        total_out_ += produced;
        if (produced > 0) sink_(std::string_view(out, produced));
        if (rc == Z_STREAM_END) {
            stream_ended_ = true;
            if (z.avail_in == 0) return;
            if (encoding_ != ContentEncoding::gzip) {
                throw ProtocolError("deflate response body has " + std::to_string(z.avail_in) +
                                    " bytes after the end of the compressed stream");
            }
            // Another gzip member follows in this same piece.
            inflateReset(&z);
            stream_ended_ = false;
            continue;
        }
        // Z_OK or Z_BUF_ERROR (no progress possible): stop when all input is used and output did not fill.
        if (z.avail_in == 0 && z.avail_out != 0) return;
        if (rc == Z_BUF_ERROR && produced == 0) return;
    }
}

void Decompressor::finish() {
    if (!stream_) {
        if (header_.empty()) return;  // empty body
        // A one-byte deflate body is still held in header_ (the second byte would pick the wrapper): no
        // deflate stream is that short.
        throw ProtocolError("truncated deflate response body (stream ended after " +
                            std::to_string(header_.size()) + " compressed byte)");
    }
    if (!stream_ended_) {
        throw ProtocolError(std::string("truncated ") + name_of(encoding_) +
                            " response body (stream ended after " + std::to_string(total_in_) +
                            " compressed bytes)");
    }
}

}  // namespace squall::http
