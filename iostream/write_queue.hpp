// squall::WriteQueue: the pending writes of a stream, handed to writev / io_uring as iovecs.
//
// Large writes are queued as they are (an appended std::string is moved in, not copied); small ones are
// copied into shared blocks, so a burst of a thousand small frames becomes a few iovecs. gather() fills up
// to IOV_MAX iovecs for one writev; advance(n) drops the n bytes the kernel took, whole chunks or part of
// one.
//
//     squall::WriteQueue q;
//     q.append(std::move(head));
//     q.append(body_view);
//     std::array<iovec, squall::WriteQueue::kMaxIovecs> iov;
//     ssize_t n = ::writev(fd, iov.data(), static_cast<int>(q.gather(iov)));
//     if (n > 0) q.advance(static_cast<size_t>(n));
//
// The iovecs stay valid until the next advance() or clear(), even if more is appended meanwhile (a block
// only grows within its reserved capacity, and chunks own heap storage that moving never relocates), so an
// io_uring send may be in flight while the application keeps writing. To learn when a given write is
// flushed, record appended_total() after appending it and wait until written_total() reaches it.
#pragma once

#include <sys/uio.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace squall {

// A stream's pending output as a list of chunks (see the file comment). One thread.
class WriteQueue {
public:
    static constexpr size_t kMaxIovecs = IOV_MAX;  // the most iovecs gather() fills (writev's limit)
    // Writes up to this size are copied into a shared block; larger ones keep their own storage.
    static constexpr size_t kCoalesceLimit = 1024;
    // Capacity of one shared block.
    static constexpr size_t kBlockSize = 16 * 1024;

    WriteQueue() = default;
    ~WriteQueue();  // gives its blocks to this thread's BlockPool
    // Moving takes the chunks (the iovecs of an earlier gather() stay valid).
    WriteQueue(WriteQueue&& other) noexcept;
    WriteQueue& operator=(WriteQueue&& other) noexcept;
    WriteQueue(const WriteQueue&) = delete;
    WriteQueue& operator=(const WriteQueue&) = delete;

    // Queues bytes: a large string is moved in without copying; small ones are copied into a block.
    void append(std::string&& bytes);
    // Queues a copy of bytes.
    void append(std::string_view bytes);

    // Pending (not yet written) bytes.
    size_t size() const { return pending_; }
    bool empty() const { return pending_ == 0; }
    // Number of chunks (the iovecs a full gather would need).
    size_t chunk_count() const { return chunks_.size() - head_; }

    // Fills out with iovecs for the pending bytes in order, at most min(out.size(), kMaxIovecs) of them
    // and at most max_bytes in total; returns how many it filled.
    size_t gather(std::span<iovec> out, size_t max_bytes = SIZE_MAX) const;
    // Drops the first n pending bytes (they were written). std::out_of_range if n > size().
    void advance(size_t n);
    // Drops everything pending (the stream closed).
    void clear();
    // An idle stream's: with nothing pending, hands the spare block (kept for the next small write) to
    // this thread's BlockPool (iostream/block_pool.hpp), where the next small append of any queue takes
    // one. False when writes are pending.
    bool release_spare();
    // Heap bytes held by blocks and chunks, pending or spare (for tests of idle memory).
    size_t held_capacity() const noexcept;

    // Monotonic byte counters since construction: a write is flushed once written_total() >= the
    // appended_total() recorded right after appending it.
    uint64_t appended_total() const { return appended_total_; }
    uint64_t written_total() const { return written_total_; }

private:
    // Either a string of its own or a shared block: a BlockPool chunk of kBlockSize bytes, of which
    // block_used are filled (it never reallocates, so iovecs into it stay valid).
    struct Chunk {
        std::string bytes;
        size_t offset = 0;      // bytes already written
        char* block = nullptr;  // owned by the queue while the chunk is live
        size_t block_used = 0;
        const char* data() const noexcept { return block ? block : bytes.data(); }
        size_t size() const noexcept { return block ? block_used : bytes.size(); }
    };
    void pop_front();

    // Live chunks are chunks_[head_, end); the dead prefix is erased when it dominates.
    std::vector<Chunk> chunks_;
    size_t head_ = 0;
    size_t pending_ = 0;
    char* spare_block_ = nullptr;  // a drained block kept for reuse: no pool trip in steady state
    uint64_t appended_total_ = 0;
    uint64_t written_total_ = 0;
};

}  // namespace squall
