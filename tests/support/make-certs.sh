#!/usr/bin/env bash
# Creates throwaway test certificates in DIR with the openssl CLI (run at test time; keys are never
# committed). EC P-256 keys keep it fast.
#
#   ca.pem / ca.key                      test CA (trusted by the tests)
#   server.pem / server.key              signed by ca; SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   wrong-host.pem / wrong-host.key      signed by ca; SAN DNS:wrong.example.com only
#   client.pem / client.key              signed by ca; clientAuth
#   untrusted-ca.pem / untrusted-ca.key  a second CA nobody trusts
#   untrusted-server.pem / .key          signed by untrusted-ca; same SANs as server.pem
#
# Usage: make-certs.sh DIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
mkdir -p "$dir"
cd "$dir"

days=2
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

make_ca() {  # name, subject
  newkey "$1.key"
  openssl req -x509 -new -key "$1.key" -days "$days" -subj "$2" -out "$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

make_leaf() {  # name, ca, subject, extensions
  newkey "$1.key"
  openssl req -new -key "$1.key" -subj "$3" -out "$1.csr"
  printf '%s\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days "$days" \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

server_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1'

make_ca ca "/CN=squall test CA"
make_ca untrusted-ca "/CN=squall untrusted test CA"
make_leaf server ca "/CN=localhost" "$server_ext"
make_leaf untrusted-server untrusted-ca "/CN=localhost" "$server_ext"
make_leaf wrong-host ca "/CN=wrong.example.com" 'basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:wrong.example.com'
make_leaf client ca "/CN=squall test client" 'basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth'
rm -f ./*.srl
