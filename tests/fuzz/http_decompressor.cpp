// libFuzzer target: httpclient's Decompressor (gzip and deflate Content-Encoding) on arbitrary bodies.
//
// Input: byte 0 picks the encoding and max_output_size (a small limit makes the bomb check fire); bytes
// 1-4 seed the piece sizes; the rest is the compressed body. The body is inflated twice, in one feed() and
// in pieces of 0..64 bytes, each followed by finish().
// Oracles: only squall::Error escapes; total_out() is what the sink received and never exceeds
// max_output_size; total_in() counts the bytes fed to a successful decode; both runs agree on success and on
// the output; a non-empty body that decodes is a complete stream, so it has at least 2 bytes (the smallest
// deflate stream) and the body without its last byte does not decode (truncation is always detected).
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "squall/coro/errors.hpp"
#include "squall/httpclient/decompressor.hpp"

namespace {

using squall::http::ContentEncoding;
using squall::http::Decompressor;
using squall::http::DecompressorOptions;

struct Outcome {
    bool failed = false;
    std::string output;
};

Outcome inflate(ContentEncoding encoding, DecompressorOptions options, std::string_view body,
                squall::fuzz::PieceSizes* pieces) {
    Outcome out;
    Decompressor inflater(encoding, options, [&](std::string_view piece) {
        out.output.append(piece);
        SQUALL_FUZZ_CHECK(out.output.size() <= options.max_output_size);
    });
    uint64_t fed = 0;
    try {
        while (!body.empty()) {
            size_t n = pieces ? pieces->next(64) : body.size();
            std::string_view piece = body.substr(0, n);
            body.remove_prefix(piece.size());
            fed += piece.size();
            inflater.feed(piece);
        }
        inflater.finish();
    } catch (const squall::Error&) {
        out.failed = true;
    }
    SQUALL_FUZZ_CHECK(inflater.total_out() == out.output.size());
    if (!out.failed) SQUALL_FUZZ_CHECK(inflater.total_in() == fed);  // after an error it means nothing
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    squall::fuzz::FuzzInput input(data, size);
    uint8_t mode = input.u8();
    squall::fuzz::PieceSizes pieces(input.u32());
    std::string_view body = input.rest();

    ContentEncoding encoding = (mode & 1) ? ContentEncoding::deflate : ContentEncoding::gzip;
    DecompressorOptions options;
    options.max_output_size = (mode & 2) ? static_cast<size_t>(mode >> 2) * 97 : 1 << 20;

    Outcome one = inflate(encoding, options, body, nullptr);
    Outcome many = inflate(encoding, options, body, &pieces);
    SQUALL_FUZZ_CHECK(one.failed == many.failed);
    if (!one.failed) SQUALL_FUZZ_CHECK(one.output == many.output);
    if (!one.failed && !body.empty()) {
        SQUALL_FUZZ_CHECK(body.size() >= 2);
        Outcome cut = inflate(encoding, options, body.substr(0, body.size() - 1), nullptr);
        SQUALL_FUZZ_CHECK(cut.failed);
    }
    return 0;
}
