#include "squall/amqp/messaging/errors.hpp"

#include "squall/amqp/errors.hpp"
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
    } catch (const UsageError&) {
        return false;  // the caller's mistake (MessageTooLargeError, ...): the same call fails again
    } catch (const AccessRefusedError&) {
        return false;  // wrong credentials or a refused operation: retrying cannot help
    } catch (const NotAllowedError&) {
        return false;  // 530: a vhost the user may not access
    } catch (const NotImplementedError&) {
        return false;  // 540: the broker refuses what the client asked (e.g. channel.flow false)
    } catch (const BrokerFrameError&) {
        return false;  // 501-505: the broker refused what the client sent; it would send it again
    } catch (const BrokerSyntaxError&) {
        return false;
    } catch (const CommandInvalidError&) {
        return false;
    } catch (const ChannelProtocolError&) {
        return false;
    } catch (const UnexpectedFrameError&) {
        return false;
    } catch (const ConnectionClosedError&) {
        return true;  // lost, heartbeat, 320 forced, 506 resource, 541 internal, ...
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

}  // namespace squall::amqp::messaging
