#!/bin/sh
# Makes a certificate authority and one certificate per cluster member for pacta's mutual TLS
# (`pacta run --transport tcp --tls-cert ... --tls-key ... --tls-ca ...`).
#
#   sh make-cluster-certs.sh DIR NAME[=ADDRESS[,ADDRESS...]] ...
#   sh make-cluster-certs.sh certs node0=10.0.0.1 node1=10.0.0.2 node2=10.0.0.3 client0
#
# Writes DIR/ca.crt and DIR/ca.key (keep ca.key offline: whoever holds it can mint members), and
# DIR/NAME.crt, DIR/NAME.key per member. Each member's certificate is valid as a server and as a
# client (mutual TLS) and names its addresses (IP or DNS) plus 127.0.0.1 and localhost, which is
# what the dialing side checks. Keys are P-256; members' certificates are valid for $DAYS days
# (default 825), the CA's for $CA_DAYS (default 3650).
set -eu
days=${DAYS:-825}
ca_days=${CA_DAYS:-3650}
[ $# -ge 2 ] || { echo "usage: $0 DIR NAME[=ADDRESS[,ADDRESS...]] ..." >&2; exit 2; }
dir=$1
shift
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -days "$ca_days" -subj "/CN=pacta cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
for member in "$@"; do
  name=${member%%=*}
  sans="IP:127.0.0.1,DNS:localhost,DNS:$name"
  if [ "$name" != "$member" ]; then
    for address in $(echo "${member#*=}" | tr ',' ' '); do
      case $address in
        *[!0-9.:]*) sans="$sans,DNS:$address" ;;
        *) sans="$sans,IP:$address" ;;
      esac
    done
  fi
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n' "$sans" > "$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -out "$dir/$name.crt" -days "$days" -extfile "$dir/$name.ext" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
  echo "$dir/$name.crt ($sans)"
done
rm -f "$dir/ca.srl"
