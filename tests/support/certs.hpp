// Test certificates generated at test time (tests/support/make-certs.sh, openssl CLI) into a private
// temporary directory, once per test process, removed at exit. Nothing secret is ever committed.
//
//     const auto& certs = squall::testing::test_certs();
//     auto ctx = squall::TlsContext::client({.ca_file = certs.ca_file});
#pragma once

#include <string>

namespace squall::testing {

struct TestCerts {
    std::string dir;
    std::string ca_file;                          // the trusted test CA
    std::string server_cert, server_key;          // SANs: localhost, 127.0.0.1, ::1; signed by ca_file
    std::string wrong_host_cert, wrong_host_key;  // SAN wrong.example.com; signed by ca_file
    std::string client_cert, client_key;          // clientAuth; signed by ca_file
    std::string untrusted_ca_file;                // a CA nobody trusts
    std::string untrusted_server_cert, untrusted_server_key;  // localhost SANs, signed by the untrusted CA
};

// Generates the certificates on first use (thread-safe); throws std::runtime_error if the script fails.
const TestCerts& test_certs();

}  // namespace squall::testing
