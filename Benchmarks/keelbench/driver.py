"""Benchmarks/run's driver: build, start, seed, measure, report. See Benchmarks/run --help.

Conduit runs the production profile with every protection of its API's route group on (token auth, security headers
with a CSP nonce, HSTS, allowed hosts, request ids, the request deadline, JSON access log, metrics); TLS is terminated
"elsewhere", so requests carry X-Forwarded-Proto: https from the trusted loopback proxy. Both servers get a fresh
SQLite database seeded with the same counts, and wrk runs against them alternately, endpoint by endpoint.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import report

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
COUNTS = {"users": 50, "articles": 500, "comments": 2000, "favorites": 3000}
LOGIN = {"user": {"email": "seed_user_000@example.com", "password": "conduit-seed-pw"}}
ARTICLE = {"article": {"title": "A benchmark article", "description": "Written by wrk", "body": "Every request writes one.",
                       "tagList": ["benchmark"]}}
WRITE_LABEL = "POST /api/articles (auth)"
FORWARDED = {"X-Forwarded-Proto": "https"}
RELEASE_FLAGS = ["-c", "release", "--disable-default-traits", "-Xswiftc", "-gnone", "-Xcc", "-g0"]
ENDPOINTS = [  # label, path, wrk script, signed in
    ("GET /api/articles", "/articles?limit=20", "report", False),
    ("GET /api/articles (auth)", "/articles?limit=20", "report", True),
    ("GET /api/articles/:slug", "/articles/{slug}", "report", False),
    ("GET /api/articles/:slug/comments", "/articles/{slug}/comments", "report", False),
    ("GET /api/tags", "/tags", "report", False),
    ("POST /api/users/login", "/users/login", "login", False),
]
# What both sides cache (Conduit's cached route groups, the peer's cache_page): anonymous reads, JSON and pages.
CACHED_LABELS = ("GET /api/articles", "GET /api/articles/:slug", "GET /api/articles/:slug/comments", "GET /api/tags",
                 "GET / (home page)", "GET /article/:slug (page)")


def measured_endpoints(cached: bool):
    """The API rows a run measures: every one, or with --cached only those both sides serve from their cache."""
    return [row for row in ENDPOINTS if not cached or row[0] in CACHED_LABELS]


class Failure(Exception):
    """A run that cannot go on: a message for the person and the exit status."""

    def __init__(self, message: str, status: int = 70):
        super().__init__(message)
        self.status = status


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="Benchmarks/run", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Conduit beside a peer, bare Hummingbird beside Keel's middleware stack: one run, one table.",
        epilog=(
            "Benchmarks/run                     build, seed, measure, print the table and write docs/performance.md\n"
            "Benchmarks/run --peer none         Conduit and the trivial routes only\n"
            "Benchmarks/run --cached            both sides serving from their caches: Conduit's response cache, the peer's\n"
            "                                   cache_page (DJANGO_CACHE_URL, locmem unless KEEL_BENCH_DJANGO_CACHE_URL says);\n"
            "                                   anonymous reads only, written to docs/cache.md\n"
            "Benchmarks/run --baseline REV      also the trivial route behind the stack as it was at REV, built into\n"
            "                                   .build-release-base and measured beside today's: a before/after in one run\n\n"
            "The Django peer (shared/peers/django_conduit) is the default when it is found beside the checkout; set\n"
            "KEEL_BENCH_PEER_DIR to point at it elsewhere. Its article page is added by Benchmarks/django-pages/ to a copy\n"
            "made in the run's folder (../shared is never edited). Needs wrk, curl and python3 (apt-get install -y wrk)."))
    parser.add_argument("--duration", default="5s")
    parser.add_argument("--warmup", default="1s")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default="", help="measure only the endpoints whose label matches this regular expression")
    parser.add_argument("--no-write", dest="write", action="store_false", help="do not update docs/performance.md")
    parser.add_argument("--json", action="store_true", help="the results as one JSON object on standard output (progress on stderr)")
    parser.add_argument("--keep", action="store_true", help="keep the run's logs and databases")
    parser.add_argument("--peer", choices=["none", "django"], help="no peer, or the Django peer (the default when found)")
    parser.add_argument("--peer-url", help="a peer that is already running (seeded here unless --peer-seeded)")
    parser.add_argument("--peer-cmd", help="a peer started by this command (PORT is set; it is seeded here)")
    parser.add_argument("--peer-seeded", action="store_true", help="the peer already holds the seeded data")
    parser.add_argument("--baseline", help="a git revision whose stack is measured beside today's")
    parser.add_argument("--cached", action="store_true", help="both sides with their response caches on, anonymous reads only")
    return parser.parse_args(argv)


class Bench:
    def __init__(self, options):
        self.options = options
        self.started = time.monotonic()
        self.work = Path(tempfile.mkdtemp(prefix="keel-bench."))
        self.processes = []  # (Popen, is a process group)
        self.ports = set()
        self.keep = options.keep
        self.run = None
        self.log = sys.stderr if options.json else sys.stdout

    # ----------------------------------------------------------------------------------------------------- plumbing

    def say(self, text: str) -> None:
        print(text, file=self.log, flush=True)

    def step(self, text: str) -> None:
        self.say(f"\n==> [{int(time.monotonic() - self.started):3d}s] {text}")

    def pick_port(self) -> int:
        """A free loopback port, never one handed out before in this run (a server may not hold its port yet)."""
        while True:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            if port not in self.ports:
                self.ports.add(port)
                return port

    def start(self, command, log_name: str, env=None, group=False) -> subprocess.Popen:
        log = open(self.work / log_name, "w")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=group)
        self.processes.append((process, group))
        return process

    def run_quietly(self, command, log_name: str, env=None) -> None:
        with open(self.work / log_name, "w") as log:
            if subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env).returncode != 0:
                self.keep = True
                raise Failure(f"benchmark: {' '.join(map(str, command[:2]))} failed; see {self.work / log_name}")

    def wait_for(self, url: str, seconds: float, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=FORWARDED), timeout=2) as response:
                    if 200 <= response.status < 300:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if process.poll() is not None:
                self.keep = True
                raise Failure(f"benchmark: server exited; see {self.work}")
            if time.monotonic() >= deadline:
                self.keep = True
                raise Failure(f"benchmark: {url} did not come up")
            time.sleep(0.2)

    def cleanup(self) -> None:
        for process, group in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM) if group else process.terminate()
                except ProcessLookupError:
                    pass
        for process, group in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL) if group else process.kill()
                process.wait()
            if group:  # gunicorn's workers: wait up to 10 s for the whole group
                for _ in range(50):
                    if not group_pids(process.pid):
                        break
                    time.sleep(0.2)
        if self.keep:
            self.say(f"benchmark: logs and databases kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # ---------------------------------------------------------------------------------------------------- the peer

    def peer_mode(self):
        o = self.options
        if o.peer_url:
            return "url"
        if o.peer_cmd:
            return "cmd"
        if o.peer:
            return o.peer
        return "django" if find_peer_dir() else "none"

    def start_peer(self, mode):
        """Starts the peer (the Django one from a copy with the article page added) and seeds it in the background:
        its virtualenv, migrations and seeding mostly wait on pip and password hashing, so they overlap the build."""
        o = self.options
        if mode == "none":
            return None, "-", None, None
        peer_dir = find_peer_dir()
        if mode == "django" and not peer_dir:
            raise Failure("benchmark: Django peer not found (set KEEL_BENCH_PEER_DIR)", 66)
        seed_script = find_seed_script(peer_dir)
        if not o.peer_seeded and not seed_script:
            raise Failure("benchmark: seed_conduit.py not found to seed the peer (or pass --peer-seeded)", 66)
        process = None
        if mode == "url":
            url, label = re.sub(r"/api/?$", "", o.peer_url.rstrip("/")), "peer"
        else:
            port = self.pick_port()
            url = f"http://127.0.0.1:{port}"
            env = dict(os.environ, PORT=str(port))
            if mode == "django":
                label = "Django"
                self.step(f"starting the Django peer (gunicorn, fresh SQLite) from {peer_dir}, in the background")
                copy = self.work / "django-peer"
                shutil.copytree(peer_dir, copy, ignore=shutil.ignore_patterns(".venv", "*.sqlite3", ".secret_key", "__pycache__"))
                for folder, _, files in os.walk(copy):  # the shared peer is read-only; its copy is ours
                    os.chmod(folder, 0o755)
                    for name in files:
                        os.chmod(Path(folder) / name, os.stat(Path(folder) / name).st_mode | 0o200)
                pages = REPO / "Benchmarks" / "django-pages"
                shutil.copy(pages / "article_page.py", copy / "conduit" / "pages" / "article_page.py")
                shutil.copy(pages / "article.html", copy / "conduit" / "pages" / "templates" / "pages" / "article.html")
                with open(copy / "conduit" / "urls.py", "a") as urls:
                    urls.write((pages / "urls_addition.py").read_text())
                state = REPO / ".build-release" / "django-peer"
                state.mkdir(parents=True, exist_ok=True)
                env.update(PEER_STATE_DIR=str(state), SQLITE_PATH=str(self.work / "peer.sqlite3"))
                if o.cached:
                    env["DJANGO_CACHE_URL"] = os.environ.get("KEEL_BENCH_DJANGO_CACHE_URL", "locmem")
                # Its own process group, so every gunicorn worker can be measured and stopped.
                process = self.start([str(copy / "run.sh"), "serve"], "peer.log", env=env, group=True)
            else:
                label = "peer"
                self.step(f"starting the peer in the background: {o.peer_cmd}")
                process = self.start(["bash", "-c", o.peer_cmd], "peer.log", env=env, group=True)
        outcome = {}

        def ready():
            try:
                if process:
                    self.wait_for(f"{url}/api/tags", 300, process)
                if not o.peer_seeded:
                    arguments = [f"--{name}={count}" for name, count in COUNTS.items()]
                    with open(self.work / "peer-seed.log", "w") as log:
                        done = subprocess.run([sys.executable, str(seed_script), "--base-url", url, *arguments], stdout=log, stderr=subprocess.STDOUT)
                    if done.returncode != 0:
                        raise Failure(f"benchmark: the peer could not be seeded; see {self.work / 'peer-seed.log'}")
            except Failure as failure:
                outcome["failure"] = failure

        thread = threading.Thread(target=ready, daemon=True)
        thread.start()
        return process, label, url, (thread, outcome)

    # ------------------------------------------------------------------------------------------------------- build

    def build(self):
        """conduit and keel-bench in release mode, SQLite only (the benchmark's database; without PostgresNIO and
        swift-nio-ssl's BoringSSL) and without debug info (symbols stay, so perf still names every function)."""
        self.step("building conduit and keel-bench in release mode, SQLite only (.build-release)")
        for product in ("conduit", "keel-bench"):
            swift_build(REPO, REPO / ".build-release", product, self.say)
        bin_dir = REPO / ".build-release" / "release"
        base_bin, base_rev = None, ""
        if self.options.baseline:
            found = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", f"{self.options.baseline}^{{commit}}"],
                                   capture_output=True, text=True)
            if found.returncode != 0:
                raise Failure(f"benchmark: --baseline {self.options.baseline} is not a revision", 64)
            base_rev = found.stdout.strip()
            self.step(f"building keel-bench at {base_rev} (the baseline) the same way (.build-release-base)")
            # One worktree, kept between runs (ignored), so the next build of the same revision is incremental.
            source = REPO / ".build-baseline-src"
            if source.is_dir():
                head = subprocess.run(["git", "-C", str(source), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
                if head != base_rev:
                    subprocess.run(["git", "-C", str(source), "checkout", "-q", "--detach", base_rev], check=True)
            else:
                subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(source), base_rev],
                               check=True, capture_output=True)
            swift_build(source, REPO / ".build-release-base", "keel-bench", self.say)
            base_bin = REPO / ".build-release-base" / "release"
        return bin_dir, base_bin, base_rev

    # ----------------------------------------------------------------------------------------------------- servers

    def start_servers(self, bin_dir: Path, base_bin):
        self.step("starting Conduit (production profile, fresh SQLite, seeded with conduit seed)")
        conduit = bin_dir / "conduit"
        key = subprocess.run([str(conduit), "keys", "generate"], capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        # Response caching off, as the peer's is (PERFORMANCE-NOTES: caching is not a way to win the benchmark), unless
        # --cached turns both on; ETags and 304s stay, as they do on every deployment.
        env = dict(os.environ, KEEL_PROFILE="production", SIGNING_KEY=key, HTTP_ALLOWED_HOSTS="127.0.0.1,localhost",
                   DATABASE_URL=f"sqlite://{self.work / 'conduit.sqlite3'}", CACHE_RESPONSES="true" if self.options.cached else "false")
        self.run_quietly([str(conduit), "migrate"], "conduit-migrate.log", env)
        self.run_quietly([str(conduit), "seed", *[f"--{name}={count}" for name, count in COUNTS.items()]], "conduit-seed.log", env)
        self.say((self.work / "conduit-seed.log").read_text().replace("\r", "\n").strip().splitlines()[-1])
        # The same seeded database, copied, for Conduit with the audit trail off: the write row's other half.
        for suffix in ("", "-wal", "-shm"):
            if (self.work / f"conduit.sqlite3{suffix}").exists():
                shutil.copy(self.work / f"conduit.sqlite3{suffix}", self.work / f"conduit-noaudit.sqlite3{suffix}")
        servers = {}
        port = self.pick_port()
        servers["conduit"] = (f"http://127.0.0.1:{port}", self.start([str(conduit), "serve", "--port", str(port)], "conduit.log", env))
        self.wait_for(f"{servers['conduit'][0]}/health/ready", 30, servers["conduit"][1])
        quiet = dict(env, AUDIT_ENABLED="false", DATABASE_URL=f"sqlite://{self.work / 'conduit-noaudit.sqlite3'}")
        port = self.pick_port()
        servers["noaudit"] = (f"http://127.0.0.1:{port}", self.start([str(conduit), "serve", "--port", str(port)], "conduit-noaudit.log", quiet))
        self.wait_for(f"{servers['noaudit'][0]}/health/ready", 30, servers["noaudit"][1])

        def keel_bench(name: str, binary: Path):
            env = dict(os.environ, KEEL_PROFILE="production", SIGNING_KEY=key, HTTP_ALLOWED_HOSTS="127.0.0.1,localhost",
                       DATABASE_URL=f"sqlite://{self.work / (name + '.sqlite3')}")
            self.run_quietly([str(binary / "keel-bench"), "migrate"], f"{name}-migrate.log", env)
            port = self.pick_port()
            servers[name] = (f"http://127.0.0.1:{port}", self.start([str(binary / "keel-bench"), "serve", "--port", str(port)], f"{name}.log", env))
            self.wait_for(f"{servers[name][0]}/plaintext", 30, servers[name][1])

        keel_bench("stack", bin_dir)
        if base_bin:
            keel_bench("baseline", base_bin)
        port = self.pick_port()
        servers["bare"] = (f"http://127.0.0.1:{port}", self.start([str(bin_dir / "keel-bench"), "bare", "--port", str(port)], "bare.log"))
        self.wait_for(f"{servers['bare'][0]}/plaintext", 30, servers["bare"][1])
        # The third trivial server answers with exactly the headers the stack just sent (its nonce and request id fixed).
        with urllib.request.urlopen(urllib.request.Request(f"{servers['stack'][0]}/plaintext", headers=FORWARDED), timeout=10) as response:
            head = f"HTTP/1.1 {response.status} {response.reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in response.getheaders())
        (self.work / "stack-headers.txt").write_text(head + "\r\n")
        port = self.pick_port()
        servers["headers"] = (f"http://127.0.0.1:{port}", self.start(
            [str(bin_dir / "keel-bench"), "bare", "--headers", str(self.work / "stack-headers.txt"), "--port", str(port)], "bare-headers.log"))
        self.wait_for(f"{servers['headers'][0]}/plaintext", 30, servers["headers"][1])
        return servers

    # ------------------------------------------------------------------------------------------------- measurement

    def measure(self, label: str, target: str, base: str, path: str, script: str, token) -> None:
        if self.options.only and not re.search(self.options.only, label):
            return
        o = self.options
        headers = dict(FORWARDED)
        if token:
            headers["Authorization"] = f"Token {token}"
        header_args = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
        wrk = ["wrk", f"-t{o.threads}", f"-c{o.connections}", "--timeout", "30s", "-s", str(self.work / f"{script}.lua"), *header_args, base + path]
        if o.warmup != "0":
            subprocess.run(wrk[:3] + [f"-d{o.warmup}"] + wrk[3:], capture_output=True)
        # The preflight also drains whatever the warm-up left queued, and catches a 3xx, which wrk does not count.
        status = self.request(base + path, headers, BODIES.get(script), timeout=60)
        done = subprocess.run(wrk[:3] + [f"-d{o.duration}"] + wrk[3:], capture_output=True, text=True)
        (self.work / ("wrk-" + re.sub(r"[^A-Za-z0-9]", "_", f"{label}-{target}") + ".txt")).write_text(done.stdout + done.stderr)
        # Drain again: requests wrk left queued (a peer's sync workers finish every queued login) must not eat into the
        # next measurement's cores. One more answered request means the queue is empty.
        self.request(base + path, headers, BODIES.get(script), timeout=120)
        settle()
        measured = report.parse_wrk(done.stdout) or report.Measurement(0, 1, 0, 0)
        if not 200 <= status < 300:
            measured.status_errors += 1
        self.run.add(label, target, measured)
        self.say(f"    {label:<34} {target:<9} {measured.rps:9.0f} req/s  p50 {measured.p50_us / 1000:7.2f} ms  "
                 f"p99 {measured.p99_us / 1000:8.2f} ms  errors {measured.status_errors + measured.socket_errors}")

    @staticmethod
    def request(url: str, headers: dict, body, timeout: float) -> int:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                         headers=dict(headers, **({"Content-Type": "application/json"} if data else {})))
        try:
            with NoRedirects.open(request, timeout=timeout) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except (urllib.error.URLError, OSError):
            return 0

    def write_wrk_scripts(self) -> None:
        lua = (HERE / "report.lua").read_text()
        (self.work / "report.lua").write_text(lua)
        for script, payload in BODIES.items():
            body = json.dumps(json.dumps(payload))  # a Lua string literal is a JSON string literal for this text
            (self.work / f"{script}.lua").write_text(f'wrk.method = "POST"\nwrk.body = {body}\nwrk.headers["Content-Type"] = "application/json"\n{lua}')

    # ---------------------------------------------------------------------------------------------------------- run

    def main(self) -> int:
        o = self.options
        for tool in ("wrk", "swift"):
            if not shutil.which(tool):
                raise Failure(f"benchmark: {tool} is not installed (wrk: apt-get install -y wrk)", 69)
        mode = self.peer_mode()
        if mode == "none" and not o.peer:
            self.say("benchmark: no Django peer found; running without a peer")
        peer_process, peer_label, peer_url, peer_ready = self.start_peer(mode)
        bin_dir, base_bin, base_rev = self.build()
        if peer_ready:
            self.step("waiting for the peer to be up and seeded (seed_conduit.py, the same counts)")
            thread, outcome = peer_ready
            thread.join()
            if "failure" in outcome:
                self.keep = True
                raise outcome["failure"]
        servers = self.start_servers(bin_dir, base_bin)
        conduit_url = servers["conduit"][0]
        token, slug = discover(conduit_url)
        peer_token, peer_slug = discover(peer_url) if peer_url else (None, None)
        self.write_wrk_scripts()
        setup = (f"wrk -t{o.threads} -c{o.connections} -d{o.duration}, warm-up {o.warmup}; {COUNTS['users']} users, "
                 f"{COUNTS['articles']} articles, {COUNTS['comments']} comments, {COUNTS['favorites']} favorites")
        if o.cached:
            setup += ("; both sides serving from their caches (Conduit: cache.responses on, memory store; the peer: cache_page on "
                      f"{os.environ.get('KEEL_BENCH_DJANGO_CACHE_URL', 'locmem')}), signed out")
        self.run = report.Run(peer_label=peer_label, machine=machine(), setup=setup, date="", baseline_revision=base_rev)
        sampler = RSSSampler(servers["conduit"][1].pid, peer_process.pid if peer_process else None)
        sampler.start()

        self.step(f"measuring: wrk -t{o.threads} -c{o.connections} -d{o.duration} (warm-up {o.warmup}), Conduit and {peer_label} alternately")
        for label, path, script, signed_in in measured_endpoints(o.cached):
            self.measure(label, "conduit", conduit_url + "/api", path.replace("{slug}", slug), script, token if signed_in else None)
            if peer_url:
                self.measure(label, "peer", peer_url + "/api", path.replace("{slug}", peer_slug), script, peer_token if signed_in else None)
        # Pages for people, signed out: the home page and an article page on both sides; the Django peer's article page
        # is the one added to its copy, so a peer given by --peer-url or --peer-cmd is measured on the home page only.
        for label, path, both in (("GET / (home page)", "/", True), ("GET /article/:slug (page)", "/article/{slug}", mode == "django")):
            self.measure(label, "conduit", conduit_url, path.replace("{slug}", slug), "report", None)
            if peer_url and both:
                self.measure(label, "peer", peer_url, path.replace("{slug}", peer_slug), "report", None)
        self.measure_rest(servers, conduit_url, peer_url, token, peer_token, base_bin)
        self.run.conduit_rss_kb, self.run.peer_rss_kb = sampler.stop()
        self.finish_run()
        return 0

    def measure_rest(self, servers, conduit_url, peer_url, token, peer_token, base_bin):
        """Writes and the trivial route (not with --cached, which measures what both sides cache only)."""
        if self.options.cached:
            return
        # Writes, signed in, last (they grow the databases): Conduit with the audit trail on and off, twice each,
        # alternately, and the peer between them.
        noaudit_url = servers["noaudit"][0]
        self.measure(WRITE_LABEL, "conduit", conduit_url + "/api", "/articles", "write", token)
        self.measure(WRITE_LABEL, "noaudit", noaudit_url + "/api", "/articles", "write", token)
        if peer_url:
            self.measure(WRITE_LABEL, "peer", peer_url + "/api", "/articles", "write", peer_token)
        self.measure(WRITE_LABEL, "noaudit", noaudit_url + "/api", "/articles", "write", token)
        self.measure(WRITE_LABEL, "conduit", conduit_url + "/api", "/articles", "write", token)
        self.measure("GET /plaintext", "bare", servers["bare"][0], "/plaintext", "report", None)
        self.measure("GET /plaintext", "headers", servers["headers"][0], "/plaintext", "report", None)
        if base_bin:
            # Baseline and today's stack twice each, alternately, so drift on a shared machine falls on both.
            self.measure("GET /plaintext", "baseline", servers["baseline"][0], "/plaintext", "report", None)
            self.measure("GET /plaintext", "stack", servers["stack"][0], "/plaintext", "report", None)
            self.measure("GET /plaintext", "baseline", servers["baseline"][0], "/plaintext", "report", None)
        self.measure("GET /plaintext", "stack", servers["stack"][0], "/plaintext", "report", None)

    def finish_run(self):
        o = self.options
        self.step("results")
        self.run.date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        text = report.render(self.run)
        self.say(text)
        if o.write:
            doc = REPO / "docs" / ("cache.md" if o.cached else "performance.md")
            current = doc.read_text() if doc.exists() else f"# Performance\n\n## Latest run\n\n{report.BEGIN}\n{report.END}\n"
            doc.write_text(report.replace_block(current, text))
            self.say(f"\nwritten to {doc}")
        if o.json:
            print(json.dumps(report.to_json(self.run), indent=2))
        self.step("done")


BODIES = {"login": LOGIN, "write": ARTICLE}


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer to report (wrk would not count it), not one to follow."""

    def redirect_request(self, *args, **kwargs):
        return None

    @classmethod
    def open(cls, request, timeout):
        return urllib.request.build_opener(cls).open(request, timeout=timeout)


class RSSSampler:
    """Peak resident memory while serving, every 200 ms: Conduit's one process, and every process of the peer's group
    (gunicorn's master and workers) summed. Conduit's own high-water mark counts too."""

    def __init__(self, conduit_pid: int, peer_group):
        self.conduit_pid, self.peer_group = conduit_pid, peer_group
        self.conduit_peak = self.peer_peak = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def loop(self) -> None:
        while not self.stopping.wait(0.2):
            self.conduit_peak = max(self.conduit_peak, status_kb(self.conduit_pid, "VmRSS"))
            if self.peer_group:
                self.peer_peak = max(self.peer_peak, sum(status_kb(pid, "VmRSS") for pid in group_pids(self.peer_group)))

    def stop(self):
        self.stopping.set()
        self.thread.join()
        return max(self.conduit_peak, status_kb(self.conduit_pid, "VmHWM")), self.peer_peak


def status_kb(pid: int, field: str) -> int:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def group_pids(group: int):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == group:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def settle() -> None:
    """Waits (at most 30 s) until the cores are mostly idle again, so work a server still does for the last
    measurement (a sync worker finishing a queued login) is not charged to the next one."""

    def sample():
        fields = [int(value) for value in open("/proc/stat").readline().split()[1:9]]
        return fields[3] + fields[4], sum(fields)

    for _ in range(60):
        idle_before, total_before = sample()
        time.sleep(0.5)
        idle_after, total_after = sample()
        if total_after == total_before or (idle_after - idle_before) / (total_after - total_before) > 0.8:
            return


def swift_build(source: Path, scratch: Path, product: str, say) -> None:
    done = subprocess.run(["swift", "build", "--scratch-path", str(scratch), *RELEASE_FLAGS, "--product", product],
                          cwd=source, capture_output=True, text=True)
    lines = [line for line in (done.stdout + done.stderr).splitlines()
             if re.search(r"error|warning: .*Sources|Compiling|Build", line) and "unhandled" not in line]
    for line in lines[-3:]:
        say(line)
    if done.returncode != 0:
        raise Failure(f"benchmark: building {product} failed", 70)


def discover(base: str):
    """The seeded user's token and an article's slug, through the API (both sides the same way)."""

    def call(method, path, body=None, token=None):
        request = urllib.request.Request(base + "/api" + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                         headers=dict(FORWARDED, **{"Content-Type": "application/json"}))
        if token:
            request.add_header("Authorization", "Token " + token)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    try:
        token = call("POST", "/users/login", LOGIN)["user"]["token"]
        slug = call("GET", "/articles?limit=1")["articles"][0]["slug"]
    except (urllib.error.URLError, OSError, KeyError, IndexError, ValueError) as error:
        raise Failure(f"benchmark: could not log in to {base} or find an article ({error})")
    return token, slug


def find_peer_dir():
    for candidate in (os.environ.get("KEEL_BENCH_PEER_DIR"), REPO.parent / "shared" / "peers" / "django_conduit",
                      Path("/work/shared/peers/django_conduit")):
        if candidate and os.access(Path(candidate) / "run.sh", os.X_OK):
            return Path(candidate).resolve()
    return None


def find_seed_script(peer_dir):
    candidates = [peer_dir / ".." / ".." / "bench" / "seed_conduit.py"] if peer_dir else []
    candidates += [REPO.parent / "shared" / "bench" / "seed_conduit.py", Path("/work/shared/bench/seed_conduit.py")]
    return next((path.resolve() for path in candidates if path.is_file()), None)


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    memory = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} cores, {model}, {memory / 1048576:.1f} GiB, {os.uname().sysname} {os.uname().release}"


def main(argv) -> int:
    options = parse_arguments(argv)
    bench = Bench(options)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        return bench.main()
    except Failure as failure:
        print(str(failure), file=sys.stderr)
        return failure.status
    except KeyboardInterrupt:
        return 130
    finally:
        bench.cleanup()
