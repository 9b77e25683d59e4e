#include "squall/websocket/deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace squall::websocket {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    for (;;) {
        auto pos = s.find(sep);
        parts.push_back(trim(s.substr(0, pos)));
        if (pos == std::string_view::npos) break;
        s.remove_prefix(pos + 1);
    }
    return parts;
}

int parse_window_bits(std::string_view name, std::string_view value) {
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
    if (value.size() < 1 || value.size() > 2 || value.front() == '0')
        throw std::invalid_argument("permessage-deflate: invalid " + std::string(name) + " value '" +
                                    std::string(value) + "'");
    int bits = 0;
    for (char c : value) {
        if (c < '0' || c > '9')
            throw std::invalid_argument("permessage-deflate: invalid " + std::string(name) + " value '" +
                                        std::string(value) + "'");
        bits = bits * 10 + (c - '0');
    }
    if (bits < 8 || bits > 15)
        throw std::invalid_argument("permessage-deflate: " + std::string(name) + "=" + std::to_string(bits) +
                                    " is outside 8..15");
    return bits;
}

constexpr unsigned char kTail[4] = {0x00, 0x00, 0xff, 0xff};

}  // namespace

std::string deflate_offer(const DeflateOptions& o) {
    if (o.server_max_window_bits < 8 || o.server_max_window_bits > 15)
        throw std::invalid_argument("DeflateOptions::server_max_window_bits must be 8..15");
    if (o.client_max_window_bits < 9 || o.client_max_window_bits > 15)
        throw std::invalid_argument("DeflateOptions::client_max_window_bits must be 9..15");
    std::string s = "permessage-deflate";
    if (o.server_no_context_takeover) s += "; server_no_context_takeover";
    if (o.client_no_context_takeover) s += "; client_no_context_takeover";
    if (o.server_max_window_bits != 15)
        s += "; server_max_window_bits=" + std::to_string(o.server_max_window_bits);
    // Without a value: we accept whatever window the server wants us to use (down to 9).
    if (o.client_max_window_bits != 15)
        s += "; client_max_window_bits=" + std::to_string(o.client_max_window_bits);
    else
        s += "; client_max_window_bits";
    return s;
}

DeflateParams accept_deflate_response(std::string_view extensions, const DeflateOptions& offered) {
    DeflateParams p;
    p.client_no_context_takeover = offered.client_no_context_takeover;
    p.client_max_window_bits = offered.client_max_window_bits;
    p.compression_level = offered.compression_level;
    p.min_compress_size = offered.min_compress_size;
    bool seen = false;
    for (auto ext : split(extensions, ',')) {
        if (ext.empty()) continue;
        auto params = split(ext, ';');
        if (params[0] != "permessage-deflate")
            throw std::invalid_argument("the server accepted extension '" + std::string(params[0]) +
                                        "', which was not offered");
        if (seen) throw std::invalid_argument("the server accepted permessage-deflate twice");
        seen = true;
        bool server_nct = false, client_nct = false;
        std::optional<int> server_bits, client_bits;
        for (std::size_t i = 1; i < params.size(); ++i) {
            auto eq = params[i].find('=');
            auto name = trim(params[i].substr(0, eq));
            std::optional<std::string_view> value;
            if (eq != std::string_view::npos) value = trim(params[i].substr(eq + 1));
            auto once = [&](bool already) {
                if (already)
                    throw std::invalid_argument("permessage-deflate: parameter " + std::string(name) +
                                                " repeated");
            };
            if (name == "server_no_context_takeover" || name == "client_no_context_takeover") {
                if (value)
                    throw std::invalid_argument("permessage-deflate: " + std::string(name) +
                                                " takes no value");
                bool& flag = name == "server_no_context_takeover" ? server_nct : client_nct;
                once(flag);
                flag = true;
            } else if (name == "server_max_window_bits") {
                once(server_bits.has_value());
                if (!value)
                    throw std::invalid_argument("permessage-deflate: server_max_window_bits needs a value");
                server_bits = parse_window_bits(name, *value);
                if (*server_bits > offered.server_max_window_bits)
                    throw std::invalid_argument("permessage-deflate: server_max_window_bits=" +
                                                std::to_string(*server_bits) + " is larger than offered");
            } else if (name == "client_max_window_bits") {
                once(client_bits.has_value());
                if (!value)
                    throw std::invalid_argument("permessage-deflate: client_max_window_bits needs a value");
                client_bits = parse_window_bits(name, *value);
                if (*client_bits > offered.client_max_window_bits)
                    throw std::invalid_argument("permessage-deflate: client_max_window_bits=" +
                                                std::to_string(*client_bits) + " is larger than offered");
                if (*client_bits < 9)
                    throw std::invalid_argument(
                        "permessage-deflate: client_max_window_bits=8 cannot be honoured (zlib's raw deflate "
                        "has no 8-bit window)");
            } else {
                throw std::invalid_argument("permessage-deflate: unknown parameter '" + std::string(name) +
                                            "'");
            }
        }
        if (offered.server_no_context_takeover && !server_nct)
            throw std::invalid_argument("permessage-deflate: the server ignored server_no_context_takeover");
        p.server_no_context_takeover = server_nct;
        p.client_no_context_takeover = client_nct || offered.client_no_context_takeover;
        p.server_max_window_bits = server_bits.value_or(15);
        if (client_bits) p.client_max_window_bits = *client_bits;
    }
    if (!seen) throw std::invalid_argument("no permessage-deflate in the answer");
    return p;
}

// ---------------------------------------------------------------- compressor

struct MessageDeflater::Impl {
    z_stream z{};
    bool reset_each = false;
};

MessageDeflater::MessageDeflater(const DeflateParams& params) : impl_(std::make_unique<Impl>()) {
    impl_->reset_each = params.client_no_context_takeover;
    if (deflateInit2(&impl_->z, params.compression_level, Z_DEFLATED, -params.client_max_window_bits, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2 failed");
}

MessageDeflater::~MessageDeflater() {
    deflateEnd(&impl_->z);
}

void MessageDeflater::compress(std::string_view message, std::string& out) {
    z_stream& z = impl_->z;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
    z.avail_in = static_cast<uInt>(message.size());
    const std::size_t start = out.size();
    std::size_t used = start;
    out.resize(start + deflateBound(&z, static_cast<uLong>(message.size())) + 16);
    for (;;) {
        z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        z.avail_out = static_cast<uInt>(out.size() - used);
        int rc = deflate(&z, Z_SYNC_FLUSH);
        used = out.size() - z.avail_out;
        if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("deflate failed");
        if (z.avail_out != 0 && z.avail_in == 0) break;
        out.resize(out.size() * 2);
    }
    out.resize(used);
    // A sync flush ends with an empty stored block, 00 00 ff ff: RFC 7692 drops it.
    if (used - start >= 4 && std::memcmp(out.data() + used - 4, kTail, 4) == 0) out.resize(used - 4);
    if (impl_->reset_each) deflateReset(&z);
}

// ---------------------------------------------------------------- decompressor

struct MessageInflater::Impl {
    z_stream z{};
    bool reset_each = false;

    // Inflates `in` into out; false when out would pass max_size. Room is offered one byte past the limit
    // so that an overflow shows.
    bool run(std::string_view in, std::string& out, std::size_t max_size) {
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z.avail_in = static_cast<uInt>(in.size());
        for (;;) {
            const std::size_t start = out.size();
            const std::size_t chunk =
                std::min<std::size_t>(std::max<std::size_t>(in.size() * 4, 16 * 1024), 1 << 20);
            const std::size_t room = std::min(chunk, max_size - start) + 1;
            out.resize(start + room);
            z.next_out = reinterpret_cast<Bytef*>(out.data() + start);
            z.avail_out = static_cast<uInt>(room);
            int rc = inflate(&z, Z_SYNC_FLUSH);
            out.resize(start + room - z.avail_out);
            if (out.size() > max_size) return false;
            if (rc == Z_STREAM_END) {
                // A final block (BFINAL) inside a message: go on with a fresh stream for what follows.
                inflateReset(&z);
                if (z.avail_in == 0) return true;
                continue;
            }
            if (rc == Z_BUF_ERROR) return true;  // no input left and nothing pending
            if (rc != Z_OK)
                throw std::runtime_error(std::string("corrupt compressed message: ") +
                                         (z.msg ? z.msg : "inflate error"));
            if (z.avail_out != 0 && z.avail_in == 0) return true;
        }
    }
};

MessageInflater::MessageInflater(const DeflateParams& params) : impl_(std::make_unique<Impl>()) {
    impl_->reset_each = params.server_no_context_takeover;
    // The largest window inflates anything a smaller one produced.
    if (inflateInit2(&impl_->z, -15) != Z_OK) throw std::runtime_error("inflateInit2 failed");
}

MessageInflater::~MessageInflater() {
    inflateEnd(&impl_->z);
}

bool MessageInflater::decompress(std::string_view piece, std::string& out, std::size_t max_size) {
    return impl_->run(piece, out, max_size);
}

bool MessageInflater::finish_message(std::string& out, std::size_t max_size) {
    bool ok = impl_->run(std::string_view(reinterpret_cast<const char*>(kTail), 4), out, max_size);
    if (impl_->reset_each) inflateReset(&impl_->z);
    return ok;
}

}  // namespace squall::websocket
