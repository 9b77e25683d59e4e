// Minimal logging for errors that have no awaiter to go to (a fire-and-forget task that failed, an
// exception nobody retrieved). Applications route it with set_log_handler.
#pragma once

#include <functional>
#include <string_view>

namespace squall {

// Severity of a log line; the default handler drops debug.
enum class LogLevel { debug, info, warning, error };

// Receives every line squall logs; may be called from any thread that runs a loop.
using LogHandler = std::function<void(LogLevel, std::string_view message)>;

// Replaces the process-wide handler (default: one line on stderr, debug suppressed). Not thread-safe
// against concurrent logging: set it at start-up. A null handler restores the default. Returns the
// previous handler.
LogHandler set_log_handler(LogHandler handler);

// Passes one line to the current handler (squall's own code logs through this).
void log(LogLevel level, std::string_view message);

}  // namespace squall
