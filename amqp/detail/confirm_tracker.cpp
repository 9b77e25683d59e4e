#include "squall/amqp/detail/confirm_tracker.hpp"

#include <vector>

#include "squall/amqp/errors.hpp"

namespace squall::amqp::detail {

Confirmation ConfirmTracker::track(bool mandatory, std::string_view exchange, std::string_view routing_key) {
    const uint64_t tag = next_tag_++;
    slots_.emplace_back();
    ++unconfirmed_;
    if (mandatory) mandatory_.emplace(tag, std::make_pair(std::string(exchange), std::string(routing_key)));
    return Confirmation(slots_.back().promise.get_future());
}

void ConfirmTracker::returned(std::string exchange, std::string routing_key, std::exception_ptr error) {
    if (mandatory_.empty()) return;  // no message could claim it
    returns_.push_back(Returned{std::move(exchange), std::move(routing_key), std::move(error)});
    // Each return belongs to one mandatory message still awaiting its confirm: never keep more.
    while (returns_.size() > mandatory_.size()) returns_.pop_front();
}

bool ConfirmTracker::settle(uint64_t delivery_tag, bool multiple, bool ack) {
    const uint64_t last_tag = first_tag_ + slots_.size();                            // one past the newest
    if (delivery_tag < first_tag_ && !(multiple && delivery_tag == 0)) return true;  // already settled
    if (delivery_tag >= last_tag) return false;
    // multiple with tag 0: everything outstanding (the spec's rule).
    const uint64_t from = multiple ? first_tag_ : delivery_tag;
    const uint64_t to = (multiple && delivery_tag == 0) ? last_tag - 1 : delivery_tag;

    // Returned mandatory messages among the confirmed range fail with MessageReturnedError.
    std::vector<std::pair<uint64_t, std::exception_ptr>> returned;
    if (ack && !returns_.empty()) {
        for (auto it = mandatory_.lower_bound(from);
             it != mandatory_.end() && it->first <= to && !returns_.empty(); ++it) {
            for (auto r = returns_.begin(); r != returns_.end(); ++r) {
                if (r->exchange == it->second.first && r->routing_key == it->second.second) {
                    returned.emplace_back(it->first, r->error);
                    returns_.erase(r);
                    break;
                }
            }
        }
    }

    // Settle first, resolve afterwards: resolving resumes publishers inline, which may publish again.
    std::vector<std::pair<Promise<void>, std::exception_ptr>> settled;
    for (uint64_t tag = from; tag <= to; ++tag) {
        Slot& slot = slots_[tag - first_tag_];
        if (slot.settled) continue;
        slot.settled = true;
        --unconfirmed_;
        mandatory_.erase(tag);
        std::exception_ptr error;
        if (!ack) {
            error = std::make_exception_ptr(MessageNackedError(tag));
        } else {
            for (auto& [t, e] : returned) {
                if (t == tag) error = e;
            }
        }
        settled.emplace_back(std::move(slot.promise), std::move(error));
    }
    while (!slots_.empty() && slots_.front().settled) {
        slots_.pop_front();
        ++first_tag_;
    }
    for (auto& [promise, error] : settled) {
        if (error)
            promise.set_exception(error);
        else
            promise.set_value();
    }
    return true;
}

void ConfirmTracker::fail_all(const std::exception_ptr& reason) {
    auto slots = std::move(slots_);
    slots_.clear();
    first_tag_ += slots.size();
    unconfirmed_ = 0;
    mandatory_.clear();
    returns_.clear();
    for (auto& slot : slots) {
        if (!slot.settled) slot.promise.set_exception(reason);
    }
}

}  // namespace squall::amqp::detail
