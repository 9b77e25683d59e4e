// detail::ConfirmTracker, the publisher-confirm bookkeeping of a channel: acks and nacks (single,
// multiple, multiple with tag 0), returns matched to their mandatory message, duplicates and unknown tags,
// the bound on kept returns, and failing everything when the channel ends.
#include <doctest/doctest.h>

#include <stdexcept>

#include "squall/amqp/detail/confirm_tracker.hpp"
#include "squall/amqp/errors.hpp"

using namespace squall::amqp;

namespace {

template <class E>
bool failed_with(const Confirmation& c) {
    auto f = c.future();
    if (!f.done() || !f.exception()) return false;
    try {
        std::rethrow_exception(f.exception());
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

bool succeeded(const Confirmation& c) {
    auto f = c.future();
    return f.done() && !f.exception();
}

std::exception_ptr returned_error(const char* rk) {
    return std::make_exception_ptr(MessageReturnedError(312, "NO_ROUTE", "", rk));
}

}  // namespace

TEST_SUITE("amqp") {
    TEST_CASE("ConfirmTracker: acks, nacks and multiple settle by delivery tag") {
        detail::ConfirmTracker t;
        Confirmation c1 = t.track(false, "", "q");
        Confirmation c2 = t.track(false, "", "q");
        Confirmation c3 = t.track(false, "", "q");
        Confirmation c4 = t.track(false, "", "q");
        CHECK(t.unconfirmed() == 4);
        CHECK(t.settle(2, false, true));
        CHECK(succeeded(c2));
        CHECK_FALSE(c1.done());
        CHECK(t.settle(3, true, false));  // multiple: 1 and 3 (2 is settled)
        CHECK(failed_with<MessageNackedError>(c1));
        CHECK(failed_with<MessageNackedError>(c3));
        CHECK(t.unconfirmed() == 1);
        CHECK(t.settle(3, false, true));        // already settled: ignored
        CHECK_FALSE(t.settle(9, false, true));  // never published
        CHECK(t.settle(0, true, true));         // multiple with tag 0: everything outstanding
        CHECK(succeeded(c4));
        CHECK(t.unconfirmed() == 0);
    }

    TEST_CASE("ConfirmTracker: a return fails its mandatory message's confirm; kept returns are bounded") {
        detail::ConfirmTracker t;
        Confirmation plain = t.track(false, "", "a");
        Confirmation m1 = t.track(true, "", "a");
        Confirmation m2 = t.track(true, "", "b");
        CHECK(t.expects_returns());
        t.returned("", "b", returned_error("b"));
        // More returns than mandatory messages awaiting a confirm cannot all belong to one: the oldest go.
        t.returned("", "x", returned_error("x"));
        t.returned("", "a", returned_error("a"));
        CHECK(t.settle(3, true, true));
        CHECK(succeeded(plain));
        CHECK(failed_with<MessageReturnedError>(m1));           // the return for "a" was kept
        CHECK(failed_with<MessageReturnedError>(m2) == false);  // "b" was dropped as the oldest
        CHECK_FALSE(t.expects_returns());
        t.returned("", "a", returned_error("a"));  // no mandatory message waits: nothing kept
        Confirmation m3 = t.track(true, "", "a");
        CHECK(t.settle(4, false, true));
        CHECK(succeeded(m3));
    }

    TEST_CASE("ConfirmTracker: fail_all fails every outstanding confirm with the reason") {
        detail::ConfirmTracker t;
        Confirmation c1 = t.track(true, "", "q");
        Confirmation c2 = t.track(false, "", "q");
        CHECK(t.settle(1, false, true));
        t.fail_all(std::make_exception_ptr(ConnectionLostError("gone")));
        CHECK(succeeded(c1));
        CHECK(failed_with<ConnectionLostError>(c2));
        CHECK(t.unconfirmed() == 0);
        CHECK_FALSE(t.expects_returns());
    }
}
