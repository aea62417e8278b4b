#!/usr/bin/env bash
# Installs every Debian package slotap's build, agent, tests and benchmark
# need. Idempotent: does nothing (not even apt-get update) when all are there.
set -euo pipefail

PACKAGES=(
	# build
	make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev
	libyaml-dev libmicrohttpd-dev libgnutls28-dev libcrypt-dev libcurl4-openssl-dev libcjson-dev
	libcap-dev protobuf-c-compiler libprotobuf-c-dev
	# tests and benchmark
	libcmocka-dev node-llhttp python3 curl openssl nginx wrk prometheus iproute2 nghttp2-client
	libnghttp2-dev
	libcap2-bin libfaketime prometheus-alertmanager systemd python3-yaml
	# the Redis tests and benchmark
	redis-server redis-tools
	# otlp_push decodes OTLP with the OpenTelemetry definitions from npm
	nodejs npm
	# HTTP/2 tests: gRPC C-core under /usr/bin/python3 (Debian's modules load there only)
	python3-grpcio
	# and frames counted by a client of our own (h2c_goaway)
	python3-h2
	# make fuzz: clang's libFuzzer and sanitizer runtimes (only recommended by clang)
	libclang-rt-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
	# NodeSource's nodejs ships its own npm and conflicts with Debian's
	[ "$p" = npm ] && command -v npm >/dev/null && continue
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root (or with sudo)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
