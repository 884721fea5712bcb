#!/bin/sh
# Development certificates for wsgate. NEVER use these in production: the CA key is public.
# Makes: ca.crt/ca.key (development CA), server.crt/server.key (localhost, 127.0.0.1),
#        other.crt/other.key (other.test, for SNI tests), expired.crt/expired.key (expired in 2020).
# Needs only the openssl command line (3.0 or later). Run from anywhere; writes beside this script.
set -eu
cd "$(dirname "$0")"
DAYS=3650
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# 1. The development CA.
key ca.key
openssl req -x509 -new -key ca.key -sha256 -days "$DAYS" -subj "/O=wsgate development/CN=wsgate development CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt

# leaf NAME SAN: a certificate NAME.crt/NAME.key for subjectAltName SAN, signed by the CA.
leaf() {
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/O=wsgate development/CN=$3" -out "$WORK/$1.csr"
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$2" > "$WORK/$1.ext"
    openssl x509 -req -in "$WORK/$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -CAserial "$WORK/ca.srl" \
        -sha256 -days "$DAYS" -extfile "$WORK/$1.ext" -out "$1.crt" 2>/dev/null
}
leaf server "DNS:localhost,IP:127.0.0.1" localhost
leaf other "DNS:other.test" other.test

# 2. An expired certificate: `openssl x509 -req` cannot back-date, `openssl ca` can (-startdate/-enddate).
key expired.key
openssl req -new -key expired.key -subj "/O=wsgate development/CN=localhost" -out "$WORK/expired.csr"
mkdir -p "$WORK/ca"
: > "$WORK/ca/index.txt"
echo 1000 > "$WORK/ca/serial"
cat > "$WORK/ca.cnf" <<CNF
[ ca ]
default_ca = dev
[ dev ]
dir = $WORK/ca
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = anything
copy_extensions = none
x509_extensions = leaf
unique_subject = no
[ anything ]
organizationName = optional
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
subjectAltName = DNS:localhost,IP:127.0.0.1
CNF
openssl ca -batch -config "$WORK/ca.cnf" -cert ca.crt -keyfile ca.key -in "$WORK/expired.csr" \
    -startdate 20190101000000Z -enddate 20200101000000Z -notext -out expired.crt 2>/dev/null

chmod 644 ./*.crt ./*.key
openssl verify -CAfile ca.crt server.crt other.crt
echo "expired.crt: notAfter=$(openssl x509 -in expired.crt -noout -enddate | cut -d= -f2)"
