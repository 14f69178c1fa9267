# Sourced by the scripts that start a server for the tests (functions/aws/tests/moto.sh,
# functions/e2e/emulator.sh, static_web_server/tests/serve.sh): a free loopback port for it,
# and waiting until it listens there.

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# await_port NAME PORT PID LOG: returns once 127.0.0.1:PORT accepts a connection; fails with
# LOG when process PID exits first or nothing listens within ~10 s.
await_port() {
    local name=$1 port=$2 pid=$3 log=$4
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "$name did not start listening on 127.0.0.1:$port:" >&2
    cat "$log" >&2
    return 1
}
