#include "squall/iostream/write_queue.hpp"

#include <cstring>
#include <stdexcept>

#include <utility>
#include "squall/iostream/block_pool.hpp"

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
    chunks_.push_back(Chunk{std::move(bytes)});
}

void WriteQueue::append(std::string_view bytes) {
    if (bytes.empty()) return;
    pending_ += bytes.size();
    appended_total_ += bytes.size();
    if (bytes.size() > kCoalesceLimit) {
        chunks_.push_back(Chunk{std::string(bytes)});
        return;
    }
    // Append within the block's fixed capacity only: a gathered iovec that points into it stays valid.
    if (chunk_count() > 0) {
        Chunk& last = chunks_.back();
        if (last.block && kBlockSize - last.block_used >= bytes.size()) {
            std::memcpy(last.block + last.block_used, bytes.data(), bytes.size());
            last.block_used += bytes.size();
            return;
        }
    }
    char* block = std::exchange(spare_block_, nullptr);
    if (block == nullptr) block = BlockPool::local().take_read(kBlockSize);
    std::memcpy(block, bytes.data(), bytes.size());
    Chunk c;
    c.block = block;
    c.block_used = bytes.size();
    chunks_.push_back(std::move(c));
}

size_t WriteQueue::gather(std::span<iovec> out, size_t max_bytes) const {
    const size_t limit = out.size() < kMaxIovecs ? out.size() : kMaxIovecs;
    size_t count = 0;
    for (size_t i = head_; i < chunks_.size() && count < limit && max_bytes > 0; ++i) {
        const Chunk& c = chunks_[i];
        size_t len = c.size() - c.offset;
        if (len > max_bytes) len = max_bytes;
        // iovec's base is non-const by POSIX; writev never writes through it.
        out[count].iov_base = const_cast<char*>(c.data() + c.offset);
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
        const size_t remaining = c.size() - c.offset;
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
    if (c.block) {
        if (spare_block_ == nullptr)
            spare_block_ = c.block;
        else
            BlockPool::recycle(c.block, kBlockSize);
        c.block = nullptr;
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

namespace squall {

bool WriteQueue::release_spare() {
    if (!empty()) return false;
    if (spare_block_) BlockPool::recycle(std::exchange(spare_block_, nullptr), kBlockSize);
    return true;
}

size_t WriteQueue::held_capacity() const noexcept {
    size_t held = spare_block_ ? kBlockSize : 0;
    for (size_t i = head_; i < chunks_.size(); ++i)
        held += chunks_[i].block ? kBlockSize : chunks_[i].bytes.capacity();
    return held;
}

WriteQueue::~WriteQueue() {
    clear();
    if (spare_block_) BlockPool::recycle(spare_block_, kBlockSize);
}

WriteQueue::WriteQueue(WriteQueue&& other) noexcept
    : chunks_(std::move(other.chunks_)),
      head_(std::exchange(other.head_, 0)),
      pending_(std::exchange(other.pending_, 0)),
      spare_block_(std::exchange(other.spare_block_, nullptr)),
      appended_total_(other.appended_total_),
      written_total_(other.written_total_) {
    other.chunks_.clear();
}

WriteQueue& WriteQueue::operator=(WriteQueue&& other) noexcept {
    if (this != &other) {
        clear();
        if (spare_block_) BlockPool::recycle(spare_block_, kBlockSize);
        chunks_ = std::move(other.chunks_);
        other.chunks_.clear();
        head_ = std::exchange(other.head_, 0);
        pending_ = std::exchange(other.pending_, 0);
        spare_block_ = std::exchange(other.spare_block_, nullptr);
        appended_total_ = other.appended_total_;
        written_total_ = other.written_total_;
    }
    return *this;
}

}  // namespace squall
