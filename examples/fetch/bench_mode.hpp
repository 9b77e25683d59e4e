// squall-fetch --bench: an HTTP load generator (as wrk) on squall::LoopGroup, one Client per loop.
//
//     squall-fetch --bench --duration 10 -c 64 --threads 2 http://127.0.0.1:8080/small.txt
//
// Prints requests/s, latency percentiles from a histogram, errors by kind and the client's CPU per
// request (see --bench --help). Its own options; main() hands argv over when --bench is among them.
#pragma once

namespace fetch {

bool wants_bench_mode(int argc, char** argv);
// Returns the exit code (fetch::ExitCode: kOk when every request succeeded).
int bench_main(int argc, char** argv);

}  // namespace fetch
