#include "squall/iostream/buffer.hpp"

#include "squall/iostream/block_pool.hpp"

#include <string.h>  // memmem (GNU)
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace squall {

Buffer::Buffer(size_t initial_capacity) {
    if (initial_capacity > 0) reallocate(initial_capacity);
}

Buffer::Buffer(Buffer&& other) noexcept
    : storage_(std::move(other.storage_)),
      capacity_(std::exchange(other.capacity_, 0)),
      begin_(std::exchange(other.begin_, 0)),
      end_(std::exchange(other.end_, 0)) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
    if (this != &other) {
        storage_ = std::move(other.storage_);
        capacity_ = std::exchange(other.capacity_, 0);
        begin_ = std::exchange(other.begin_, 0);
        end_ = std::exchange(other.end_, 0);
    }
    return *this;
}

void Buffer::consume(size_t n) {
    if (n > size()) {
        throw std::out_of_range("squall::Buffer::consume(" + std::to_string(n) + ") with only " +
                                std::to_string(size()) + " readable bytes");
    }
    begin_ += n;
    // An empty buffer restarts at the front: the common "consume everything" case never needs a move.
    if (begin_ == end_) begin_ = end_ = 0;
}

std::string Buffer::take(size_t n) {
    if (n > size()) {
        throw std::out_of_range("squall::Buffer::take(" + std::to_string(n) + ") with only " +
                                std::to_string(size()) + " readable bytes");
    }
    std::string out(data(), n);
    consume(n);
    return out;
}

std::span<char> Buffer::prepare(size_t min_bytes) {
    if (min_bytes == 0) min_bytes = 1;  // the returned span is never empty
    const size_t readable = size();
    if (capacity_ - end_ >= min_bytes) {
        return {storage_.get() + end_, capacity_ - end_};
    }
    // Compacting moves `readable` bytes; it is paid for when at least as many bytes were consumed from
    // the front since the last move (begin_ >= readable), which keeps the cost amortized O(1) per byte.
    if (readable + min_bytes <= capacity_ && begin_ >= readable) {
        std::memmove(storage_.get(), storage_.get() + begin_, readable);
        begin_ = 0;
        end_ = readable;
    } else {
        size_t wanted = readable + min_bytes;
        if (wanted < readable) throw std::length_error("squall::Buffer::prepare: size overflow");
        size_t new_capacity = capacity_ < kMinCapacity ? kMinCapacity : capacity_;
        while (new_capacity < wanted) {
            if (new_capacity > SIZE_MAX / 2) {
                new_capacity = wanted;
                break;
            }
            new_capacity *= 2;
        }
        if (new_capacity == capacity_) new_capacity = capacity_ * 2;  // full and not compactable
        reallocate(new_capacity);
    }
    return {storage_.get() + end_, capacity_ - end_};
}

void Buffer::commit(size_t n) {
    if (n > capacity_ - end_) {
        throw std::out_of_range("squall::Buffer::commit(" + std::to_string(n) + ") beyond the " +
                                std::to_string(capacity_ - end_) + " prepared bytes");
    }
    end_ += n;
}

void Buffer::append(std::string_view bytes) {
    if (bytes.empty()) return;
    auto space = prepare(bytes.size());
    std::memcpy(space.data(), bytes.data(), bytes.size());
    commit(bytes.size());
}

size_t Buffer::find(std::string_view delimiter, size_t from) const {
    const size_t readable = size();
    if (from > readable || delimiter.size() > readable - from) return npos;
    if (delimiter.empty()) return from;
    // memmem is linear (two-way) for long needles and memchr-fast for short ones.
    const void* hit = ::memmem(data() + from, readable - from, delimiter.data(), delimiter.size());
    return hit ? static_cast<size_t>(static_cast<const char*>(hit) - data()) : npos;
}

bool Buffer::shrink(size_t keep_capacity) {
    const size_t target = size() > keep_capacity ? size() : keep_capacity;
    if (capacity_ <= 2 * target) {
        if (empty() && target == 0 && capacity_ > 0) {
            storage_.reset();
            capacity_ = begin_ = end_ = 0;
            return true;
        }
        return false;
    }
    if (target == 0) {
        storage_.reset();
        capacity_ = begin_ = end_ = 0;
        return true;
    }
    reallocate(target);
    return true;
}

void detail::BufferRelease::operator()(char* p) const noexcept {
    if (pooled_capacity != 0)
        BlockPool::free_chunk(p, pooled_capacity);
    else
        delete[] p;
}

void Buffer::take_storage(size_t capacity) {
    if (capacity_ != 0 || capacity == 0) return;
    storage_ = std::unique_ptr<char[], Release>(BlockPool::local().take_read(capacity), Release{capacity});
    capacity_ = capacity;
    begin_ = end_ = 0;
}

namespace {
// Hands `storage` to this thread's BlockPool when it is a pooled chunk of `capacity` bytes (it is then
// empty); other storage stays for its owner to free.
void recycle_pooled(std::unique_ptr<char[], detail::BufferRelease>& storage, size_t capacity) noexcept {
    if (storage && capacity != 0 && storage.get_deleter().pooled_capacity == capacity)
        BlockPool::recycle(storage.release(), capacity);
}
}  // namespace

bool Buffer::give_storage() {
    if (!empty()) return false;
    recycle_pooled(storage_, capacity_);
    storage_.reset();
    capacity_ = begin_ = end_ = 0;
    return true;
}

void Buffer::reallocate(size_t new_capacity) {
    const size_t readable = size();
    // make_unique_for_overwrite: no zero-filling of memory recv will overwrite anyway.
    std::unique_ptr<char[], Release> fresh(std::make_unique_for_overwrite<char[]>(new_capacity).release());
    if (readable > 0) std::memcpy(fresh.get(), storage_.get() + begin_, readable);
    // An outgrown pool chunk goes back to the pool, where the next take finds it: unmapping it would cost
    // a stream that outgrows its chunk on every read (TLS decrypting into a nearly full one) a munmap, a TLB
    // shootdown, then a fresh mapping and its page faults.
    recycle_pooled(storage_, capacity_);
    storage_ = std::move(fresh);
    capacity_ = new_capacity;
    begin_ = 0;
    end_ = readable;
}

}  // namespace squall
