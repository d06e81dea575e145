# Helpers shared by the bench scripts (sourced, not run).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 1 300); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "bench: $1 never answered" >&2; exit 1; }
to_ms() { awk -v v="$1" 'BEGIN { n=v; sub(/[a-z]+$/,"",n); u=v; sub(/^[0-9.]+/,"",u); m=(u=="us")?0.001:(u=="ms")?1:(u=="s")?1000:1; printf "%.3f", n*m }'; }
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
