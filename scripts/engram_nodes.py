"""Helpers shared by the scripts that run several `engram serve` nodes on one PostgreSQL database
behind nginx (scripts/two_nodes_e2e.py, Benchmarks/scripts/two_nodes_load.py): the deployment recipe
of docs/DEPLOY.md."""
import json, os, shutil, signal, socket, subprocess, time


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(condition, seconds=10):
    """Polls until `condition()` holds; returns the seconds it took, or None."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(0.005)
    return None


def serve(engram, work, name, database, key, *options, quiet=False):
    """Starts a node with its index files in `work/name`; `quiet` drops its log (a line per request)."""
    node = subprocess.Popen([engram, "serve", "--store", os.path.join(work, name), "--database", database, "--port", "0",
                             "--checkpoint-interval", "0", *options],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL if quiet else None, text=True,
                            env=dict(os.environ, ENGRAM_API_KEY=key))
    return node, "http://" + json.loads(node.stdout.readline())["listening"]


def nginx(work, upstreams):
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    prefix = os.path.join(work, "nginx")
    os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
    config = os.path.join(prefix, "nginx.conf")
    servers = "\n".join(f"        server {u.removeprefix('http://')};" for u in upstreams)
    with open(config, "w") as f:
        f.write(f"""
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    upstream engram {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 2m;
        location / {{
            proxy_pass http://engram;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}
}}
""")
    process = subprocess.Popen([nginx_bin, "-p", prefix, "-c", config], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    check(eventually(lambda: _listening(port), 10) is not None, "nginx listens")
    return process, url


def _listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def stop(processes, seconds=60):
    """SIGTERM to each (the last started first: nginx before the nodes), then waits; kills what outlasts `seconds`."""
    for process in reversed(processes):
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
