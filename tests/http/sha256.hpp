// SHA-256 (OpenSSL's EVP) as lowercase hex, to compare large bodies with the sums scripts/nginx writes.
// The suites that include it link OpenSSL::Crypto.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

namespace squall::http::test {

// Feeds pieces to SHA-256 as they stream in.
class Sha256 {
public:
    Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
    ~Sha256() { EVP_MD_CTX_free(ctx_); }
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(std::string_view d) { EVP_DigestUpdate(ctx_, d.data(), d.size()); }
    std::string hex() {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(ctx_, digest, &len);
        static constexpr char kHex[] = "0123456789abcdef";
        std::string out;
        for (unsigned int i = 0; i < len; ++i) {
            out += kHex[digest[i] >> 4];
            out += kHex[digest[i] & 0xf];
        }
        return out;
    }

private:
    EVP_MD_CTX* ctx_;
};

inline std::string sha256_hex(std::string_view data) {
    Sha256 hash;
    hash.update(data);
    return hash.hex();
}

}  // namespace squall::http::test
