// squall::Buffer: the contiguous read buffer of a stream.
//
// The HTTP head parser, PCRE2 and memmem scan contiguous memory, so the read side keeps its unconsumed bytes in one
// block. Bytes are appended at the end (prepare/commit, so recv writes straight into the buffer) and
// consumed from the front; the readable bytes are [data(), data() + size()).
//
//     squall::Buffer buf;
//     auto space = buf.prepare(4096);               // at least 4096 writable bytes
//     ssize_t n = ::recv(fd, space.data(), space.size(), 0);
//     buf.commit(n);
//     if (auto pos = buf.find("\r\n"); pos != squall::Buffer::npos) {
//         std::string line = buf.take(pos + 2);
//     }
//
// Cost: amortized O(1) per byte for the steady recv/consume pattern, and no allocation once the capacity
// has reached the working size. Pointers and spans into the buffer are invalidated by prepare() and
// shrink(); consume() and commit() keep them valid.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace squall {

namespace detail {
// Frees a Buffer's storage: a BlockPool chunk (pooled_capacity != 0) or new[]'d bytes.
struct BufferRelease {
    size_t pooled_capacity = 0;
    void operator()(char* p) const noexcept;
};
}  // namespace detail

// A contiguous byte buffer: append at the end, consume from the front (see the file comment).
class Buffer {
public:
    static constexpr size_t npos = std::string_view::npos;  // find(): not found
    // Smallest allocation: a recv of less than this is not worth a syscall's overhead anyway.
    static constexpr size_t kMinCapacity = 4096;
    // Capacity an idle connection keeps by default when shrink() is called.
    static constexpr size_t kIdleCapacity = 4096;

    // Empty, with no storage until the first prepare().
    Buffer() = default;
    // Allocates initial_capacity bytes up front.
    explicit Buffer(size_t initial_capacity);
    // Moving takes the storage; the moved-from buffer is empty with no capacity.
    Buffer(Buffer&& other) noexcept;
    Buffer& operator=(Buffer&& other) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() = default;

    // Readable bytes.
    const char* data() const { return storage_.get() + begin_; }
    char* data() { return storage_.get() + begin_; }
    size_t size() const { return end_ - begin_; }
    bool empty() const { return begin_ == end_; }
    std::string_view view() const { return {data(), size()}; }
    size_t capacity() const { return capacity_; }  // bytes allocated (readable, consumed and free)

    // Drops the first n readable bytes. n > size() is a usage error (std::out_of_range).
    void consume(size_t n);
    // Copies the first n readable bytes into a string and consumes them (std::out_of_range if n > size()).
    std::string take(size_t n);
    // Drops all readable bytes; keeps the capacity.
    void clear() { begin_ = end_ = 0; }

    // Returns writable space of at least max(min_bytes, 1) bytes after the readable bytes (all the free tail,
    // which may be more). Makes room by moving the readable bytes to the front when that move is paid for by
    // bytes already consumed, otherwise by growing (doubling); at most one move or one allocation per call.
    std::span<char> prepare(size_t min_bytes);
    // Makes the first n bytes of the last prepare()'d span readable (std::out_of_range if n exceeds the
    // free tail).
    void commit(size_t n);
    // Convenience: prepare + copy + commit.
    void append(std::string_view bytes);

    // Offset (relative to data()) of the first occurrence of delimiter at or after from, or npos.
    size_t find(std::string_view delimiter, size_t from = 0) const;

    // Shrink policy for idle connections: if the capacity exceeds max(size(), keep_capacity) by more than
    // a factor of two, reallocate to fit (an empty buffer with keep_capacity == 0 frees its storage).
    // Returns true if it reallocated. Call it when a connection goes idle (e.g. returned to a pool).
    bool shrink(size_t keep_capacity = kIdleCapacity);

    // Storage from / to a BlockPool (iostream/block_pool.hpp), for streams that give their read chunk
    // back while idle. take_storage: a buffer without storage gets a chunk of exactly `capacity` bytes
    // (this thread's pool's, else a new one); no-op when it has storage. give_storage: an empty buffer hands a
    // pooled chunk back to the pool (other storage is freed) and has no storage afterwards; returns false
    // (and keeps it) when not empty. A pooled chunk that is outgrown or destroyed is freed, not pooled.
    void take_storage(size_t capacity);
    bool give_storage();

private:
    void reallocate(size_t new_capacity);

    using Release = detail::BufferRelease;

    // Invariant: begin_ <= end_ <= capacity_; storage_ is null iff capacity_ == 0.
    std::unique_ptr<char[], Release> storage_;
    size_t capacity_ = 0;
    size_t begin_ = 0;
    size_t end_ = 0;
};

}  // namespace squall
