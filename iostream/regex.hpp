// squall::StreamRegex and the incremental searches behind read_until_regex and read_until.
//
// A stream's read buffer grows a few bytes at a time. Searching it from the start on every arrival (as
// Tornado does) is quadratic for data that trickles in; these searches remember the earliest offset at
// which a match could still start and resume there. StreamingSearch uses PCRE2's hard partial matching:
// a search that runs into the end of the buffer reports where that possible match began, every earlier
// offset is proven unable to start a match, and the next search starts at that offset (with the whole
// buffer still visible, so lookbehinds and \b see the bytes before it).
//
//     auto re = std::make_shared<squall::StreamRegex>("\r?\n\r?\n");
//     squall::StreamingSearch search(re);
//     for (;;) {
//         if (auto m = search.search(buffer.view())) {     // offsets relative to buffer.data()
//             auto head = buffer.take(m->second);
//             search.reset();                              // the buffer's front moved
//             break;
//         }
//         /* ... read more into buffer ... */
//     }
//
// Offsets are relative to the first readable byte, so a Buffer compacting its storage changes nothing;
// when the caller consumes n bytes from the front it calls consume(n) (or reset()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "squall/coro/errors.hpp"
#include "squall/iostream/errors.hpp"

namespace squall {

// PCRE2 compile flags for a StreamRegex.
struct RegexOptions {
    bool caseless = false;   // PCRE2_CASELESS
    bool multiline = false;  // PCRE2_MULTILINE: ^ and $ match at line boundaries
    bool dotall = false;     // PCRE2_DOTALL: . matches \n
};

// A compiled PCRE2 pattern (8-bit code units, no UTF: stream bytes are bytes). JIT-compiled for complete
// and hard-partial matching when the library supports it. Immutable after construction; share it among
// streams with a shared_ptr.
class StreamRegex {
public:
    // Throws RegexError, e.g. "invalid regex \"a(b\" at offset 3: missing closing parenthesis".
    explicit StreamRegex(std::string_view pattern, RegexOptions options = {});
    ~StreamRegex();
    StreamRegex(const StreamRegex&) = delete;
    StreamRegex& operator=(const StreamRegex&) = delete;

    const std::string& pattern() const { return pattern_; }  // the source pattern
    bool jit() const { return jit_; }                        // JIT-compiled (else PCRE2's interpreter)

    // One-shot search of subject from start: (match start, match end) or nullopt.
    std::optional<std::pair<size_t, size_t>> search(std::string_view subject, size_t start = 0) const;

    // The pcre2_code_8 handle (opaque here so users need not include pcre2.h).
    const void* native_handle() const { return code_; }

private:
    std::string pattern_;
    void* code_ = nullptr;  // pcre2_code_8*
    bool jit_ = false;
};

// Incremental regex search over a buffer that grows at the end and is consumed from the front.
class StreamingSearch {
public:
    // Searches for regex (non-null), kept alive by the search.
    explicit StreamingSearch(std::shared_ptr<const StreamRegex> regex);
    ~StreamingSearch();
    // Moving transfers the match data; the moved-from search may only be destroyed or assigned to.
    StreamingSearch(StreamingSearch&& other) noexcept;
    StreamingSearch& operator=(StreamingSearch&& other) noexcept;
    StreamingSearch(const StreamingSearch&) = delete;
    StreamingSearch& operator=(const StreamingSearch&) = delete;

    // Searches buffer (the readable bytes; the same bytes as last time plus any appended since), starting
    // at resume_offset(). Returns (start, end) of the leftmost match, the same one a one-shot search of
    // the whole buffer would find, or nullopt when more bytes are needed. Throws RegexError on a PCRE2
    // failure such as the match limit.
    std::optional<std::pair<size_t, size_t>> search(std::string_view buffer);

    // The buffer's first n bytes were consumed: shift the resume offset with them.
    void consume(size_t n);
    // Start over at offset 0 (after consuming a match, or when the buffer was replaced).
    void reset() { resume_ = 0; }

    // Earliest offset at which a match attempt can still start (with \K the reported match begins
    // later): no match starts before it. A read with a max_bytes limit is unsatisfiable once this
    // passes the limit.
    size_t resume_offset() const { return resume_; }
    // Total bytes handed to the matcher across all searches (from the resume offset to the buffer's end
    // each time): the work counter that proves trickled input costs linear time.
    uint64_t bytes_scanned() const { return bytes_scanned_; }

    const StreamRegex& regex() const { return *regex_; }  // the pattern searched for

private:
    std::shared_ptr<const StreamRegex> regex_;
    void* match_data_ = nullptr;  // pcre2_match_data_8*, allocated once
    size_t resume_ = 0;
    uint64_t bytes_scanned_ = 0;
};

// Incremental search for a fixed delimiter (read_until): a search resumes at the last
// delimiter.size() - 1 bytes of what it already scanned, the only place a delimiter split by a read
// boundary can start.
class DelimiterSearch {
public:
    // An empty delimiter is a usage error (std::invalid_argument).
    explicit DelimiterSearch(std::string delimiter);

    // (start, end) of the first delimiter occurrence in buffer, or nullopt.
    std::optional<std::pair<size_t, size_t>> search(std::string_view buffer);
    // As StreamingSearch::consume and reset.
    void consume(size_t n);
    void reset() { resume_ = 0; }

    // The delimiter, and the counters as in StreamingSearch.
    const std::string& delimiter() const { return delimiter_; }
    size_t resume_offset() const { return resume_; }
    uint64_t bytes_scanned() const { return bytes_scanned_; }

private:
    std::string delimiter_;
    size_t resume_ = 0;
    uint64_t bytes_scanned_ = 0;
};

// One-shot helper: offset of the first delimiter at or after from in buffer, or npos. Linear time.
size_t find_delimiter(std::string_view buffer, std::string_view delimiter, size_t from = 0);

}  // namespace squall
