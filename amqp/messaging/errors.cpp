#include "squall/amqp/messaging/errors.hpp"

#include "squall/amqp/errors.hpp"
#include "squall/amqp/spec.hpp"
#include "squall/iostream/errors.hpp"
#include "squall/iostream/resolver.hpp"
#include "squall/iostream/tcp_client.hpp"

namespace squall::amqp::messaging {

ContentDisallowedError::ContentDisallowedError(std::string content_type)
    : Error("messaging: refusing to deserialize content of type '" + content_type +
            "' (not in the consumer's accept list)"),
      content_type_(std::move(content_type)) {}

bool is_recoverable_connection_error(const std::exception_ptr& e) {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const AccessRefusedError&) {
        return false;  // wrong credentials or a refused operation: retrying cannot help
    } catch (const ConnectionClosedError& err) {
        return err.reply_code() != spec::kNotAllowed;  // 530: unknown vhost
    } catch (const StreamClosedError&) {
        return true;
    } catch (const ConnectError&) {
        return true;
    } catch (const ResolveError&) {
        return true;
    } catch (const TimeoutError&) {
        return true;
    } catch (const FrameError&) {
        return true;  // the connection is gone; a new one may be fine
    } catch (...) {
        return false;
    }
}

std::string describe(const std::exception_ptr& e) {
    if (!e) return "no error";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& err) {
        return err.what();
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace squall::amqp::messaging
