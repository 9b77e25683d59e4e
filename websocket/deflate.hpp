// permessage-deflate (RFC 7692): the offer a client sends, the server's answer checked against it, and
// the per-connection compressor and decompressor (zlib raw deflate).
//
//     DeflateOptions opts{.client_no_context_takeover = true};
//     request.headers.add("Sec-WebSocket-Extensions", deflate_offer(opts));
//     DeflateParams p = accept_deflate_response(response_extension_value, opts);  // throws on a bad answer
//     MessageDeflater out(p);  MessageInflater in(p);
//     out.compress(message, frame_payload);            // payload without the 00 00 ff ff tail
//     in.decompress(frame_payload, message, max_size); in.finish_message(message, max_size);
//
// Context takeover: with *_no_context_takeover the sliding window is reset after every message, so each
// message compresses on its own (less memory kept, less compression).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace squall::websocket {

// What to offer for permessage-deflate (RFC 7692), and how to compress.
struct DeflateOptions {
    // Ask the server to reset its compressor after each message (it compresses what it sends us).
    bool server_no_context_takeover = false;
    // Reset our compressor after each message (announced to the server so it can free its window).
    bool client_no_context_takeover = false;
    // Window the server may use (8..15). 15 sends no parameter.
    int server_max_window_bits = 15;
    // Largest window we will use (9..15; zlib's raw deflate has no 8-bit window).
    int client_max_window_bits = 15;
    int compression_level = 6;  // zlib level 1..9
    // Messages shorter than this are sent uncompressed (RSV1 clear): deflate costs more than it saves.
    std::size_t min_compress_size = 64;
};

// What the handshake settled.
struct DeflateParams {
    // As in DeflateOptions, after the server's answer.
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 15;
    int client_max_window_bits = 15;
    int compression_level = 6;
    std::size_t min_compress_size = 64;
};

// The Sec-WebSocket-Extensions value offering permessage-deflate with these options.
std::string deflate_offer(const DeflateOptions& options);

// Checks the server's Sec-WebSocket-Extensions value (every field joined with ", ") against the offer.
// Returns the negotiated parameters. Throws std::invalid_argument saying what is wrong: an extension we
// did not offer, a repeated or unknown parameter, a window outside 8..15 or larger than offered,
// client_max_window_bits we did not offer, more than one permessage-deflate.
DeflateParams accept_deflate_response(std::string_view extensions, const DeflateOptions& offered);

// The compressor for messages we send. Not copyable; one per connection.
class MessageDeflater {
public:
    // Uses client_max_window_bits, client_no_context_takeover and compression_level (the connection
    // applies min_compress_size).
    explicit MessageDeflater(const DeflateParams& params);
    ~MessageDeflater();
    MessageDeflater(const MessageDeflater&) = delete;
    MessageDeflater& operator=(const MessageDeflater&) = delete;

    // Appends the compressed form of one whole message to `out` (sync-flushed, the final 00 00 ff ff
    // removed as RFC 7692 7.2.1 says).
    void compress(std::string_view message, std::string& out);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The decompressor for messages we receive.
class MessageInflater {
public:
    // Uses server_no_context_takeover (it always inflates with a 15-bit window, which reads any smaller).
    explicit MessageInflater(const DeflateParams& params);
    ~MessageInflater();
    MessageInflater(const MessageInflater&) = delete;
    MessageInflater& operator=(const MessageInflater&) = delete;

    // Inflates a piece of a compressed message, appending to `out`. Returns false when out would grow
    // past max_size (the output is then incomplete and the message must be refused). Throws
    // std::runtime_error for corrupt data.
    bool decompress(std::string_view piece, std::string& out, std::size_t max_size);
    // Ends the message (feeds the 00 00 ff ff tail; resets the window without context takeover).
    bool finish_message(std::string& out, std::size_t max_size);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace squall::websocket
