#include "squall/iostream/write_queue.hpp"

#include <stdexcept>
#include <utility>

namespace squall {

void WriteQueue::append(std::string&& bytes) {
    if (bytes.size() <= kCoalesceLimit) {
        append(std::string_view(bytes));
        return;
    }
    // Larger than any small-string buffer, so the data lives on the heap and keeps its address when the
    // Chunk is moved (iovecs handed out earlier stay valid).
    pending_ += bytes.size();
    appended_total_ += bytes.size();
    chunks_.push_back(Chunk{std::move(bytes), 0, false});
}

void WriteQueue::append(std::string_view bytes) {
    if (bytes.empty()) return;
    pending_ += bytes.size();
    appended_total_ += bytes.size();
    if (bytes.size() > kCoalesceLimit) {
        chunks_.push_back(Chunk{std::string(bytes), 0, false});
        return;
    }
    // Append within the reserved capacity only: the block never reallocates, so a gathered iovec that
    // points into it stays valid.
    if (chunk_count() > 0) {
        Chunk& last = chunks_.back();
        if (last.block && last.bytes.capacity() - last.bytes.size() >= bytes.size()) {
            last.bytes.append(bytes);
            return;
        }
    }
    std::string block = std::move(spare_block_);
    spare_block_ = std::string();
    block.clear();
    if (block.capacity() < kBlockSize) block.reserve(kBlockSize);
    block.append(bytes);
    chunks_.push_back(Chunk{std::move(block), 0, true});
}

size_t WriteQueue::gather(std::span<iovec> out, size_t max_bytes) const {
    const size_t limit = out.size() < kMaxIovecs ? out.size() : kMaxIovecs;
    size_t count = 0;
    for (size_t i = head_; i < chunks_.size() && count < limit && max_bytes > 0; ++i) {
        const Chunk& c = chunks_[i];
        size_t len = c.bytes.size() - c.offset;
        if (len > max_bytes) len = max_bytes;
        // iovec's base is non-const by POSIX; writev never writes through it.
        out[count].iov_base = const_cast<char*>(c.bytes.data() + c.offset);
        out[count].iov_len = len;
        max_bytes -= len;
        ++count;
    }
    return count;
}

void WriteQueue::advance(size_t n) {
    if (n > pending_) {
        throw std::out_of_range("squall::WriteQueue::advance(" + std::to_string(n) + ") with only " +
                                std::to_string(pending_) + " pending bytes");
    }
    pending_ -= n;
    written_total_ += n;
    while (n > 0) {
        Chunk& c = chunks_[head_];
        const size_t remaining = c.bytes.size() - c.offset;
        if (n < remaining) {
            c.offset += n;
            return;
        }
        n -= remaining;
        pop_front();
    }
}

void WriteQueue::pop_front() {
    Chunk& c = chunks_[head_];
    if (c.block && spare_block_.capacity() < kBlockSize) {
        spare_block_ = std::move(c.bytes);
        spare_block_.clear();
    }
    c.bytes = std::string();
    ++head_;
    if (head_ == chunks_.size()) {
        chunks_.clear();  // keeps the vector's capacity
        head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= chunks_.size()) {
        // Erasing the dead prefix moves at most as many chunks as were popped: amortized O(1).
        chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
}

void WriteQueue::clear() {
    while (chunk_count() > 0) pop_front();
    pending_ = 0;
}

}  // namespace squall
