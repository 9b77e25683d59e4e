#include "tests/support/certs.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#ifndef SQUALL_SOURCE_DIR
#error "SQUALL_SOURCE_DIR must name the repository root (squall_testing defines it)"
#endif

namespace squall::testing {
namespace {

// Owns the temporary directory: removed with the keys in it when the process exits normally.
struct CertsDir {
    TestCerts certs;

    CertsDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "squall-certs-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
        }
        const std::string dir = tmpl;
        const std::string script = std::string(SQUALL_SOURCE_DIR) + "/tests/support/make-certs.sh";
        // Paths come from mkdtemp and the build tree: no shell metacharacters to quote beyond spaces.
        const std::string command = "'" + script + "' '" + dir + "' >'" + dir + "/make-certs.log' 2>&1";
        const int status = std::system(command.c_str());
        if (status != 0) {
            throw std::runtime_error("tests/support/make-certs.sh failed (status " + std::to_string(status) +
                                     "), see " + dir + "/make-certs.log");
        }
        certs.dir = dir;
        auto path = [&](const char* name) { return dir + "/" + name; };
        certs.ca_file = path("ca.pem");
        certs.server_cert = path("server.pem");
        certs.server_key = path("server.key");
        certs.wrong_host_cert = path("wrong-host.pem");
        certs.wrong_host_key = path("wrong-host.key");
        certs.client_cert = path("client.pem");
        certs.client_key = path("client.key");
        certs.untrusted_ca_file = path("untrusted-ca.pem");
        certs.untrusted_server_cert = path("untrusted-server.pem");
        certs.untrusted_server_key = path("untrusted-server.key");
    }

    ~CertsDir() {
        std::error_code ignored;
        std::filesystem::remove_all(certs.dir, ignored);
    }
};

}  // namespace

const TestCerts& test_certs() {
    static CertsDir instance;  // C++ guarantees one thread-safe initialization
    return instance.certs;
}

}  // namespace squall::testing
