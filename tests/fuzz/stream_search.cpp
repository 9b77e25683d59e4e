// libFuzzer target: the incremental searches behind read_until_regex and read_until (iostream/regex.hpp),
// checked against one-shot searches of the same bytes.
//
// Input: byte 0: bit 0 picks a fixed delimiter (DelimiterSearch) instead of a regex (StreamingSearch),
// bits 1-3 the regex options (caseless, multiline, dotall); byte 1: the pattern or delimiter length
// (0-31); bytes 2-5 seed the piece sizes; then the pattern; the rest is the stream. The stream arrives in
// pieces of 0..16 bytes, appended to a buffer; after every piece the buffer is searched, and each match is
// consumed from the front (as read_until does) before searching again.
// Oracles: only squall::Error escapes; a match reported by the streaming search is exactly the leftmost
// match a one-shot search of the same buffer finds (StreamRegex::search / std::string_view::find), and
// searching again without consuming reports it again; when the streaming search reports no match, a
// one-shot match of the same buffer does not start before resume_offset() (so waiting for more bytes is
// right); a delimiter search reports a match exactly when the buffer holds the delimiter.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "fuzz_input.hpp"
#include "squall/coro/errors.hpp"
#include "squall/iostream/regex.hpp"

namespace {

using Match = std::optional<std::pair<size_t, size_t>>;

// Bytes taken from the front of the buffer after a match: its end, or one byte past an empty match at the
// front so the loop always makes progress.
size_t consumed_after(std::pair<size_t, size_t> m, size_t buffered) {
    size_t n = m.second;
    if (n == 0 && buffered > 0) n = 1;
    return n;
}

// Moves the next piece (a size the input chooses, up to 16 bytes) from the front of stream to the end of
// buffer; true when stream is then empty (the last round).
bool feed_piece(std::string& buffer, std::string_view& stream, squall::fuzz::PieceSizes& pieces) {
    size_t n = pieces.next(16);
    buffer.append(stream.substr(0, n));
    stream.remove_prefix(std::min(n, stream.size()));
    return stream.empty();
}

// The loop both searches share: the stream arrives piece by piece; after every piece, `search_once(buffer)`
// checks one search and returns the bytes its match consumed (0: no match, wait for more), which are taken
// from the buffer's front before it is called again.
template <class SearchOnce>
void feed_and_search(std::string_view stream, squall::fuzz::PieceSizes& pieces, SearchOnce search_once) {
    std::string buffer;
    bool last_round = false;
    while (!last_round) {
        last_round = feed_piece(buffer, stream, pieces);
        while (size_t used = search_once(std::as_const(buffer))) buffer.erase(0, used);
    }
}

void run_regex(std::string_view pattern, squall::RegexOptions options, std::string_view stream,
               squall::fuzz::PieceSizes& pieces) {
    std::shared_ptr<const squall::StreamRegex> regex;
    try {
        regex = std::make_shared<const squall::StreamRegex>(pattern, options);
    } catch (const squall::RegexError&) {
        return;  // not a valid pattern
    }
    squall::StreamingSearch search(regex);
    feed_and_search(stream, pieces, [&](const std::string& buffer) -> size_t {
        Match streamed = search.search(buffer);
        Match oneshot = regex->search(buffer);
        if (!streamed) {
            if (oneshot) SQUALL_FUZZ_CHECK(oneshot->first >= search.resume_offset());
            return 0;
        }
        SQUALL_FUZZ_CHECK(streamed == oneshot);
        SQUALL_FUZZ_CHECK(search.search(buffer) == streamed);
        size_t used = consumed_after(*streamed, buffer.size());
        if (used != 0) search.consume(used);  // 0: an empty match in an empty buffer
        return used;
    });
}

void run_delimiter(std::string_view delimiter, std::string_view stream, squall::fuzz::PieceSizes& pieces) {
    if (delimiter.empty()) delimiter = "\n";
    squall::DelimiterSearch search{std::string(delimiter)};
    feed_and_search(stream, pieces, [&](const std::string& buffer) -> size_t {
        Match streamed = search.search(buffer);
        size_t expected = std::string_view(buffer).find(delimiter);
        SQUALL_FUZZ_CHECK(squall::find_delimiter(buffer, delimiter) == expected);
        if (!streamed) {
            SQUALL_FUZZ_CHECK(expected == std::string_view::npos);
            SQUALL_FUZZ_CHECK(search.resume_offset() <= buffer.size());
            return 0;
        }
        SQUALL_FUZZ_CHECK(streamed->first == expected);
        SQUALL_FUZZ_CHECK(streamed->second == expected + delimiter.size());
        search.consume(streamed->second);
        return streamed->second;  // never 0: the delimiter is not empty
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    squall::fuzz::FuzzInput input(data, size);
    uint8_t mode = input.u8();
    size_t pattern_size = input.u8() % 32;
    squall::fuzz::PieceSizes pieces(input.u32());
    std::string_view pattern = input.take(pattern_size);
    std::string_view stream = input.rest().substr(0, 4096);  // bounds the cost of pathological patterns

    try {
        if (mode & 1) {
            run_delimiter(pattern, stream, pieces);
        } else {
            squall::RegexOptions options;
            options.caseless = (mode & 2) != 0;
            options.multiline = (mode & 4) != 0;
            options.dotall = (mode & 8) != 0;
            run_regex(pattern, options, stream, pieces);
        }
    } catch (const squall::Error&) {
        // RegexError from a match limit: a typed error, allowed.
    }
    return 0;
}
