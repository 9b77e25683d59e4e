#include "squall/iostream/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>  // memmem (GNU)

#include <stdexcept>

namespace squall {
namespace {

std::string pcre2_message(int code) {
    PCRE2_UCHAR buffer[256];
    int n = pcre2_get_error_message(code, buffer, sizeof buffer);
    if (n < 0) return "PCRE2 error " + std::to_string(code);
    return std::string(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
}

pcre2_code* as_code(const void* p) {
    return static_cast<pcre2_code*>(const_cast<void*>(p));
}

// pcre2_match with an empty buffer may not be handed a null subject pointer.
PCRE2_SPTR subject_pointer(std::string_view s) {
    return reinterpret_cast<PCRE2_SPTR>(s.data() ? s.data() : "");
}

[[noreturn]] void throw_match_error(const StreamRegex& regex, int rc) {
    throw RegexError("regex \"" + regex.pattern() + "\" match failed: " + pcre2_message(rc));
}

}  // namespace

StreamRegex::StreamRegex(std::string_view pattern, RegexOptions options) : pattern_(pattern) {
    uint32_t flags = 0;
    if (options.caseless) flags |= PCRE2_CASELESS;
    if (options.multiline) flags |= PCRE2_MULTILINE;
    if (options.dotall) flags |= PCRE2_DOTALL;
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern_.data()), pattern_.size(), flags,
                                     &error_code, &error_offset, nullptr);
    if (code == nullptr) {
        throw RegexError("invalid regex \"" + pattern_ + "\" at offset " + std::to_string(error_offset) +
                         ": " + pcre2_message(error_code));
    }
    code_ = code;
    // Both modes a stream uses; without JIT support (or if it fails) the interpreter gives the same results.
    uint32_t jit_available = 0;
    if (pcre2_config(PCRE2_CONFIG_JIT, &jit_available) >= 0 && jit_available) {
        jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD) == 0;
    }
}

StreamRegex::~StreamRegex() {
    pcre2_code_free(as_code(code_));
}

std::optional<std::pair<size_t, size_t>> StreamRegex::search(std::string_view subject, size_t start) const {
    if (start > subject.size()) return std::nullopt;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(as_code(code_), nullptr);
    if (md == nullptr) throw std::bad_alloc();
    int rc = pcre2_match(as_code(code_), subject_pointer(subject), subject.size(), start, 0, md, nullptr);
    std::optional<std::pair<size_t, size_t>> result;
    if (rc >= 0) {
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        result.emplace(ov[0], ov[1]);
    }
    pcre2_match_data_free(md);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) throw_match_error(*this, rc);
    return result;
}

StreamingSearch::StreamingSearch(std::shared_ptr<const StreamRegex> regex) : regex_(std::move(regex)) {
    if (!regex_) throw std::invalid_argument("squall::StreamingSearch needs a regex");
    match_data_ = pcre2_match_data_create_from_pattern(as_code(regex_->native_handle()), nullptr);
    if (match_data_ == nullptr) throw std::bad_alloc();
}

StreamingSearch::~StreamingSearch() {
    pcre2_match_data_free(static_cast<pcre2_match_data*>(match_data_));
}

StreamingSearch::StreamingSearch(StreamingSearch&& other) noexcept
    : regex_(std::move(other.regex_)),
      match_data_(std::exchange(other.match_data_, nullptr)),
      resume_(std::exchange(other.resume_, 0)),
      bytes_scanned_(std::exchange(other.bytes_scanned_, 0)) {}

StreamingSearch& StreamingSearch::operator=(StreamingSearch&& other) noexcept {
    if (this != &other) {
        pcre2_match_data_free(static_cast<pcre2_match_data*>(match_data_));
        regex_ = std::move(other.regex_);
        match_data_ = std::exchange(other.match_data_, nullptr);
        resume_ = std::exchange(other.resume_, 0);
        bytes_scanned_ = std::exchange(other.bytes_scanned_, 0);
    }
    return *this;
}

std::optional<std::pair<size_t, size_t>> StreamingSearch::search(std::string_view buffer) {
    // A buffer shorter than the resume point was consumed without telling us: rescanning is safe.
    if (resume_ > buffer.size()) resume_ = 0;
    bytes_scanned_ += buffer.size() - resume_;
    auto* md = static_cast<pcre2_match_data*>(match_data_);
    // PARTIAL_HARD: running into the end of the buffer anywhere (including at $, \z, \b, or a greedy
    // repeat that could take more) stops the search with that attempt's start offset. Every attempt that
    // started earlier failed without looking past the bytes present, so more bytes cannot change it.
    int rc = pcre2_match(as_code(regex_->native_handle()), subject_pointer(buffer), buffer.size(), resume_,
                         PCRE2_PARTIAL_HARD, md, nullptr);
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    if (rc >= 0) {
        // Searching again without consuming must find the same match. The attempt started at
        // pcre2_get_startchar, which is before ov[0] when the pattern holds \K; resuming at ov[0]
        // would begin the next attempt past the bytes that \K kept out of the match.
        resume_ = pcre2_get_startchar(md);
        return std::pair<size_t, size_t>(ov[0], ov[1]);
    }
    if (rc == PCRE2_ERROR_PARTIAL) {
        resume_ = ov[0];
        return std::nullopt;
    }
    if (rc == PCRE2_ERROR_NOMATCH) {
        // No attempt reached the end: no offset up to the end can start a match.
        resume_ = buffer.size();
        return std::nullopt;
    }
    throw_match_error(*regex_, rc);
}

void StreamingSearch::consume(size_t n) {
    resume_ = n >= resume_ ? 0 : resume_ - n;
}

DelimiterSearch::DelimiterSearch(std::string delimiter) : delimiter_(std::move(delimiter)) {
    if (delimiter_.empty()) throw std::invalid_argument("squall::DelimiterSearch: empty delimiter");
}

std::optional<std::pair<size_t, size_t>> DelimiterSearch::search(std::string_view buffer) {
    if (resume_ > buffer.size()) resume_ = 0;
    bytes_scanned_ += buffer.size() - resume_;
    size_t pos = find_delimiter(buffer, delimiter_, resume_);
    if (pos != std::string_view::npos) {
        resume_ = pos;
        return std::pair<size_t, size_t>(pos, pos + delimiter_.size());
    }
    // Only the last size-1 bytes can begin a delimiter completed by bytes still to come.
    const size_t keep = delimiter_.size() - 1;
    if (buffer.size() > keep && buffer.size() - keep > resume_) resume_ = buffer.size() - keep;
    return std::nullopt;
}

void DelimiterSearch::consume(size_t n) {
    resume_ = n >= resume_ ? 0 : resume_ - n;
}

size_t find_delimiter(std::string_view buffer, std::string_view delimiter, size_t from) {
    if (from > buffer.size() || delimiter.size() > buffer.size() - from) return std::string_view::npos;
    if (delimiter.empty()) return from;
    const void* hit =
        ::memmem(buffer.data() + from, buffer.size() - from, delimiter.data(), delimiter.size());
    return hit ? static_cast<size_t>(static_cast<const char*>(hit) - buffer.data()) : std::string_view::npos;
}

}  // namespace squall
