# Sourced by the benchmarks: the nginx they load, the same in all of them
# (and, through bench-common.sh, how they wait for what they start).

. "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"

# CPUs: nginx's worker gets CPU 0 and wrk the others. Left to the
# scheduler, a wrk thread now and then shares nginx's CPU and runs of the
# same mode spread by a third (26k-46k req/s in one 15-round run); pinned,
# nginx's CPU is the bottleneck in every run (100 % busy, wrk's CPU ~25 %
# idle), so the ratios measure what the agent costs the server, as on a
# node whose clients are elsewhere. The agent is not pinned: its drains
# compete with nginx. BENCH_PIN=0, or a single CPU, turns pinning off.
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	NGINX_AFFINITY="worker_cpu_affinity 1;"
	WRK=(taskset -c "1-$(($(nproc) - 1))" wrk)
else
	NGINX_AFFINITY=""
	WRK=(wrk)
fi

# write_nginx_site DIR PORT [CERT KEY]: DIR/nginx.conf serving
# DIR/html/index.html (17 bytes) on 127.0.0.1:PORT with one worker (pinned,
# above), keep-alive, sendfile, no logs; with CERT and KEY, over TLS.
# $NGINX_LISTEN is added to the listen directive (http2: HTTP/2, h2c by
# prior knowledge without TLS).
write_nginx_site() {
	local tls_listen="" tls_files=""
	if [ $# -ge 4 ]; then
		tls_listen=" ssl"
		tls_files="ssl_certificate $3; ssl_certificate_key $4;"
	fi
	# nginx's worker runs as nobody: a mktemp -d directory (0700) would
	# answer every request with 403 and an error log line
	chmod 755 "$1"
	mkdir -p "$1/html" "$1/logs"
	printf 'hello from nginx\n' > "$1/html/index.html"
	cat > "$1/nginx.conf" <<EOF_CONF
worker_processes 1;
$NGINX_AFFINITY
pid $1/nginx.pid;
error_log $1/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$2$tls_listen reuseport${NGINX_LISTEN:+ $NGINX_LISTEN};
        $tls_files
        root $1/html;
        location / { }
    }
}
EOF_CONF
}

# wait_nginx_site PORT [SCHEME]: until the site answers 200 with its file
# (SCHEME http, https with any certificate, or h2c: HTTP/2 by prior
# knowledge); fails loudly otherwise (a benchmark of error pages measures
# something else)
wait_nginx_site() {
	local url="${2:-http}://127.0.0.1:$1/index.html" opts=(-sk)
	if [ "${2:-}" = h2c ]; then
		url="http://127.0.0.1:$1/index.html"
		opts+=(--http2-prior-knowledge)
	fi
	for _ in $(seq 50); do
		[ "$(curl "${opts[@]}" "$url")" = "hello from nginx" ] && return 0
		sleep 0.1
	done
	echo "bench: nginx on port $1 does not serve index.html${2:+ over $2}:" >&2
	curl "${opts[@]}" -i "$url" | head -1 >&2
	exit 1
}

# start_nginx_site DIR PORT [SCHEME]: nginx on DIR/nginx.conf (as
# write_nginx_site wrote it) in the background, NGINX_PID its master,
# until it serves (wait_nginx_site)
start_nginx_site() {
	nginx -c "$1/nginx.conf" -p "$1/" -g 'daemon off;' &
	NGINX_PID=$!
	wait_nginx_site "${@:2}"
}
