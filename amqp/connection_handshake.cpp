// Connection::handshake: protocol header, start/start-ok (SASL), tune/tune-ok, open/open-ok.
#include <algorithm>
#include <cctype>

#include "squall/amqp/connection.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/iostream/errors.hpp"

namespace squall::amqp {
namespace {

// Until tune, frames up to this size are accepted (the spec's minimum is 4096; some brokers' start
// frames with large server properties exceed it).
constexpr uint32_t kHandshakeFrameMax = 128 * 1024;

// The first bytes a non-AMQP peer sent, printable, for the error message.
std::string printable_prefix(std::string_view bytes) {
    std::string out;
    for (char c : bytes.substr(0, 48)) {
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n";
        else if (std::isprint(static_cast<unsigned char>(c)))
            out += c;
        else
            out += "\\x" + std::string(1, "0123456789abcdef"[(c >> 4) & 15]) + "0123456789abcdef"[c & 15];
    }
    if (bytes.size() > 48) out += "...";
    return out;
}

uint16_t negotiate16(uint16_t client, uint16_t server) {
    if (client == 0) return server;
    if (server == 0) return client;
    return std::min(client, server);
}

uint32_t negotiate32(uint32_t client, uint32_t server) {
    if (client == 0) return server;
    if (server == 0) return client;
    return std::min(client, server);
}

bool offers(std::string_view mechanisms, std::string_view name) {
    size_t at = 0;
    while (at < mechanisms.size()) {
        size_t end = mechanisms.find(' ', at);
        if (end == std::string_view::npos) end = mechanisms.size();
        if (mechanisms.substr(at, end - at) == name) return true;
        at = end + 1;
    }
    return false;
}

}  // namespace

FieldTable Connection::client_properties() const {
    FieldTable capabilities{{"publisher_confirms", true},
                            {"consumer_cancel_notify", true},
                            {"connection.blocked", true},
                            {"basic.nack", true},
                            {"authentication_failure_close", true},
                            {"exchange_exchange_bindings", true},
                            {"per_consumer_qos", true}};
    FieldTable props{{"product", "squall"},
                     {"version", "0.1.0"},
                     {"platform", "C++20"},
                     {"information", "squall: coroutine network clients"},
                     {"capabilities", std::move(capabilities)}};
    if (!options_.connection_name.empty()) props.set("connection_name", options_.connection_name);
    for (const auto& [key, value] : options_.client_properties) props.set(key, value);
    return props;
}

std::string Connection::sasl_response(const std::string& mechanism) const {
    if (mechanism == "PLAIN") {
        std::string r;
        r += '\0';
        r += options_.user;
        r += '\0';
        r += options_.password;
        return r;
    }
    if (mechanism == "AMQPLAIN") {
        // A field table without its 4-byte length prefix.
        std::string table;
        encode_field_table(table, FieldTable{{"LOGIN", options_.user}, {"PASSWORD", options_.password}});
        return table.substr(4);
    }
    return {};  // EXTERNAL: the identity comes from the TLS client certificate
}

Task<spec::Method> Connection::next_handshake_method(const char* waiting_for) {
    handshake_step_ = waiting_for;
    const std::string peer = options_.host + ":" + std::to_string(options_.port);
    for (;;) {
        Buffer& buf = stream_->read_buffer();
        std::string_view bytes = buf.view();
        if (!bytes.empty() && std::string_view(waiting_for) == "connection.start") {
            // Nothing parsed yet: recognise a peer that is not an AMQP 0-9-1 broker.
            if (std::string_view("AMQP").starts_with(bytes.substr(0, 4))) {
                if (bytes.size() < 8) {
                    co_await stream_->fill();
                    continue;
                }
                throw FrameError("the broker at " + peer +
                                 " does not speak AMQP 0-9-1: it answered with the protocol header AMQP " +
                                 std::to_string(static_cast<uint8_t>(bytes[4])) + "-" +
                                 std::to_string(static_cast<uint8_t>(bytes[5])) + "-" +
                                 std::to_string(static_cast<uint8_t>(bytes[6])) + "-" +
                                 std::to_string(static_cast<uint8_t>(bytes[7])));
            }
            if (static_cast<uint8_t>(bytes[0]) != spec::kFrameMethod) {
                throw FrameError(peer + " is not an AMQP 0-9-1 broker: it answered \"" +
                                 printable_prefix(bytes) + "\"");
            }
        }
        FrameParse p = parse_frame(bytes, kHandshakeFrameMax);
        if (p.complete()) {
            FrameView f = *p.frame;
            if (f.type == spec::kFrameHeartbeat) {
                buf.consume(p.size);
                continue;
            }
            if (f.type != spec::kFrameMethod || f.channel != 0) {
                throw FrameError("unexpected frame (type " + std::to_string(f.type) + ", channel " +
                                 std::to_string(f.channel) + ") from " + peer + " while waiting for " +
                                 waiting_for);
            }
            spec::Method m = spec::decode_method(f.payload);
            buf.consume(p.size);
            if (auto* close = std::get_if<spec::ConnectionClose>(&m)) {
                try {
                    append_method_frame(out_, 0, spec::ConnectionCloseOk{});
                    flush_out();
                } catch (...) {
                }
                std::rethrow_exception(make_close_error(CloseScope::connection, close->reply_code,
                                                        close->reply_text, close->class_id,
                                                        close->method_id));
            }
            co_return m;
        }
        try {
            co_await stream_->fill();
        } catch (const StreamClosedError& e) {
            std::string hint;
            if (std::string_view(waiting_for) == "connection.start")
                hint = " (is it an AMQP broker?)";
            else if (std::string_view(waiting_for) == "connection.tune")
                hint = " (the broker may have refused the credentials without connection.close)";
            throw ConnectionLostError(peer +
                                          " closed the connection during the handshake, while waiting for " +
                                          waiting_for + hint + ": " + e.what(),
                                      std::current_exception());
        }
    }
}

Task<void> Connection::handshake() {
    stream_->write_buffered(spec::kProtocolHeader);

    spec::Method m = co_await next_handshake_method("connection.start");
    auto* start = std::get_if<spec::ConnectionStart>(&m);
    if (!start) throw FrameError("expected connection.start, got " + spec::to_string(spec::method_id(m)));
    if (start->version_major != 0 || start->version_minor != 9)
        throw FrameError("the broker speaks AMQP " + std::to_string(start->version_major) + "-" +
                         std::to_string(start->version_minor) + ", not 0-9");
    server_properties_ = std::move(start->server_properties);

    std::string mechanism;
    switch (options_.mechanism) {
        case SaslMechanism::plain:
            mechanism = "PLAIN";
            break;
        case SaslMechanism::amqplain:
            mechanism = "AMQPLAIN";
            break;
        case SaslMechanism::external:
            mechanism = "EXTERNAL";
            break;
        case SaslMechanism::automatic:
            for (const char* candidate : {"PLAIN", "AMQPLAIN", "EXTERNAL"}) {
                if (offers(start->mechanisms, candidate)) {
                    mechanism = candidate;
                    break;
                }
            }
            break;
    }
    if (mechanism.empty() || !offers(start->mechanisms, mechanism)) {
        throw UsageError("amqp: the broker offers the SASL mechanisms '" + start->mechanisms + "', not " +
                         (mechanism.empty() ? std::string("PLAIN, AMQPLAIN or EXTERNAL") : mechanism));
    }
    append_method_frame(out_, 0,
                        spec::ConnectionStartOk{.client_properties = client_properties(),
                                                .mechanism = mechanism,
                                                .response = sasl_response(mechanism),
                                                .locale = options_.locale});
    flush_out();

    m = co_await next_handshake_method("connection.tune");
    if (std::holds_alternative<spec::ConnectionSecure>(m))
        throw UsageError("amqp: the broker sent a SASL challenge (connection.secure) for " + mechanism +
                         ", which squall does not answer");
    auto* tune = std::get_if<spec::ConnectionTune>(&m);
    if (!tune) throw FrameError("expected connection.tune, got " + spec::to_string(spec::method_id(m)));
    channel_max_ = negotiate16(options_.channel_max, tune->channel_max);
    if (channel_max_ == 0) channel_max_ = 65535;
    frame_max_ = negotiate32(options_.frame_max, tune->frame_max);
    if (frame_max_ == 0) frame_max_ = UINT32_MAX;
    if (frame_max_ < spec::kFrameMinSize) frame_max_ = spec::kFrameMinSize;
    uint16_t client_hb = static_cast<uint16_t>(std::min<int64_t>(options_.heartbeat.count(), 65535));
    heartbeat_ = std::chrono::seconds(client_hb == 0 ? 0 : negotiate16(client_hb, tune->heartbeat));
    append_method_frame(out_, 0,
                        spec::ConnectionTuneOk{.channel_max = channel_max_,
                                               .frame_max = frame_max_,
                                               .heartbeat = static_cast<uint16_t>(heartbeat_.count())});
    append_method_frame(out_, 0, spec::ConnectionOpen{.virtual_host = options_.vhost});
    flush_out();

    m = co_await next_handshake_method("connection.open-ok");
    if (!std::holds_alternative<spec::ConnectionOpenOk>(m))
        throw FrameError("expected connection.open-ok, got " + spec::to_string(spec::method_id(m)));
}

}  // namespace squall::amqp
