"""dmarc_peers: what bench/run's dmarc section needs besides postern-dmarc:
the DNS records, the signed message, and the two peers as Debian ships
them, each configured for the same job (SPF, DKIM and DMARC of one
aligned, RSA-2048-signed 4 KB message, Authentication-Results added):

- opendkim 2.11 (Mode v) then opendmarc 1.4 (SPFSelfValidate, history
  file on), a chain of two milters as Postfix would run them. Both use
  the system resolver, so they run in a network namespace of their own
  whose /etc/resolv.conf points at a dnsmasq on 127.0.0.1:53 inside it,
  serving the same records as the run's dnsmasq (testbed.md).
- rspamd 3.4 as a milter: its rspamd_proxy worker in milter mode with
  self_scan, one worker process per core, only the spf, dkim and dmarc
  modules plus milter_headers for the A-R field; a private config file,
  its own database and socket directory, no system service.

Every starter returns unstarted harness daemons (bench/run starts,
measures and kills them) or a string saying why the side cannot run.
"""
import base64
import os
import shutil
import subprocess
import time

import harness

DOMAIN = "example.org"          # genmsg's From and MAIL FROM domain
SELECTOR = "bench"
AUTHSERV = "bench.example"      # the peers' authserv-id (A-R)
# milter-load connects from 192.0.2.10 with HELO client.example.net.
SPF = "v=spf1 ip4:192.0.2.0/24 -all"
DMARC = "v=DMARC1; p=reject; adkim=r; aspf=r"
PSL = "/usr/share/publicsuffix/public_suffix_list.dat"


def txt_line(name, value):
    """A dnsmasq txt-record; strings of at most 255 bytes."""
    parts = [value[i:i + 255] for i in range(0, len(value), 255)]
    return "txt-record=%s,%s\n" % (name, ",".join('"%s"' % p for p in parts))


def zone_file(run):
    """The run's records for the dmarc section (written once): SPF and
    DMARC of example.org, the bench key's DKIM record, an empty
    example.net (HELO name) answered at once."""
    path = os.path.join(run.work, "dmarc.dnsmasq")
    if os.path.exists(path):
        return path
    run.make_key()
    der = subprocess.run(["openssl", "pkey", "-in", key_path(run), "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True).stdout
    with open(path, "w") as f:
        f.write("local=/%s/\nlocal=/example.net/\nlocal-ttl=3600\n" % DOMAIN)
        f.write(txt_line(DOMAIN, SPF))
        f.write(txt_line("_dmarc." + DOMAIN, DMARC))
        f.write(txt_line("%s._domainkey.%s" % (SELECTOR, DOMAIN),
                         "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()))
    return path


def dns_upstream(run):
    """The run's dnsmasq for these records (one per run): postern-dmarc
    and rspamd ask it directly."""
    zone = zone_file(run)
    d = os.path.join(run.work, "dmarc-dns")
    os.makedirs(d, exist_ok=True)
    dns = run.service("dmarc-dns", lambda r: harness.DNS(d, [zone]))
    return "n/a (%s)" % dns if isinstance(dns, str) else dns.upstream


def key_path(run):
    """The run's RSA-2048 key (bench/run's dkim keys: selector "bench")."""
    return os.path.join(run.keydir, "rsa.pem")


def signed_message(run, plain):
    """PLAIN (genmsg's plain4k) with a DKIM-Signature by the run's key:
    d=example.org, s=bench, rsa-sha256, relaxed/simple, the fields a
    signer usually covers. Written once per run."""
    import dkim      # python3-dkim: the tests' independent signer
    path = os.path.join(run.work, "plain4k-signed.eml")
    if os.path.exists(path):
        return path
    run.make_key()
    pem = subprocess.run(["openssl", "pkey", "-in", key_path(run),
                          "-traditional"], check=True,
                         capture_output=True).stdout
    with open(plain, "rb") as f:
        raw = f.read()
    sig = dkim.sign(raw, SELECTOR.encode(), DOMAIN.encode(), pem,
                    canonicalize=(b"relaxed", b"simple"),
                    include_headers=[b"from", b"to", b"subject", b"date",
                                     b"message-id"])
    with open(path, "wb") as f:
        f.write(sig + raw)
    return path


# ---------------------------------------------------------------- netns DNS

class NetnsDNS(harness.Server):
    """A network namespace with lo up, /etc/netns/NAME/resolv.conf naming
    127.0.0.1, and dnsmasq on port 53 inside it serving ZONE. Programs
    started with argv() prefixed resolve through it. stop() removes the
    namespace and its files."""

    def __init__(self, workdir, zone):
        self.name = "postern-bench-%d" % os.getpid()
        self.etc = os.path.join("/etc/netns", self.name)
        self.zone = zone
        self.log = os.path.join(workdir, "netns-dnsmasq.log")
        self.spec = "netns:" + self.name
        self.made = False

    def prefix(self):
        return ["ip", "netns", "exec", self.name]

    def start(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True,
                       capture_output=True)
        self.made = True
        subprocess.run(self.prefix() + ["ip", "link", "set", "lo", "up"],
                       check=True, capture_output=True)
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:2\n")
        self.proc = subprocess.Popen(
            self.prefix() + ["/usr/sbin/dnsmasq", "--keep-in-foreground",
                             "--no-resolv", "--no-hosts", "--no-poll",
                             "--port=53", "--listen-address=127.0.0.1",
                             "--bind-interfaces", "--conf-file=/dev/null",
                             "--user=root", "--group=root", "--pid-file=",
                             "--log-facility=" + self.log,
                             "--conf-file=" + self.zone],
            stdout=subprocess.DEVNULL, stderr=open(self.log + ".err", "w"))
        harness.STARTED_PIDS.add(self.proc.pid)
        harness.wait_until(self._ready, 10, "dnsmasq in netns %s" % self.name)
        return self

    def _ready(self):
        """Port 53 bound on 127.0.0.1 in the namespace: its /proc/PID/net
        shows the namespace's sockets."""
        if self.proc.poll() is not None:
            raise RuntimeError("dnsmasq in %s exited" % self.name)
        try:
            with open("/proc/%d/net/udp" % self.proc.pid) as f:
                return any(" 0100007F:0035 " in line for line in f)
        except OSError:
            return False

    def stop(self):
        super().stop()
        if self.made:
            subprocess.run(["ip", "netns", "del", self.name],
                           capture_output=True)
            self.made = False
        shutil.rmtree(self.etc, ignore_errors=True)


def netns_dns(run):
    """The namespace and its dnsmasq, one per run, or why not."""
    if not shutil.which("ip"):
        return "n/a (no ip(8) for a network namespace)"
    zone = zone_file(run)
    return run.service("dmarc-netns", lambda r: NetnsDNS(r.work, zone))


# ---------------------------------------------------------------- chain

OPENDKIM_VERIFY_CONF = """\
Mode v
Socket {socket}
UserID postfix
UMask 007
Syslog no
Background no
AuthservID {authserv}
Nameservers 127.0.0.1
PidFile {rundir}/{name}.pid
"""

OPENDMARC_CONF = """\
Socket {socket}
UserID postfix
UMask 007
Syslog false
Background false
AuthservID {authserv}
TrustedAuthservIDs {authserv}
PublicSuffixList {psl}
SPFSelfValidate true
SPFIgnoreResults true
RejectFailures true
IgnoreAuthenticatedClients false
HistoryFile {rundir}/opendmarc.history
PidFile {rundir}/{name}.pid
"""


def chain_side(run, kind, name):
    """opendkim (verify) then opendmarc, both in the run's namespace:
    a list of two milters in smtpd_milters order."""
    for prog, pkg in (("opendkim", "opendkim"), ("opendmarc", "opendmarc")):
        if not shutil.which(prog):
            return "not installed (bench/setup.sh %s)" % pkg
    ns = netns_dns(run)
    if isinstance(ns, str):
        return ns
    out = []
    for prog, text in (("opendkim", OPENDKIM_VERIFY_CONF),
                       ("opendmarc", OPENDMARC_CONF)):
        n = "%s-%s" % (name, prog)
        spec = run.spec(kind, n)
        conf = os.path.join(run.work, n + ".conf")
        with open(conf, "w") as f:
            f.write(text.format(socket=spec, authserv=AUTHSERV, psl=PSL,
                                rundir=run.rundir, name=n))
        flag = "-x" if prog == "opendkim" else "-c"
        out.append(harness.Milter(ns.prefix() + [prog, "-f", flag, conf],
                                  spec, run.work, n))
    return out


# ---------------------------------------------------------------- rspamd

RSPAMD_CONF = """\
options {{
    pidfile = "{dir}/rspamd.pid";
    filters = "dkim";
    explicit_modules = [];
    dns {{
        nameserver = ["{dns}"];
        timeout = 1s;
        retransmits = 2;
    }}
    local_addrs = [];
    hs_cache_dir = "{dir}/";
    cache_file = "{dir}/symbols.cache";
    history_file = "{dir}/rspamd.history";
    stats_file = "{dir}/stats.ucl";
    dynamic_conf = "{dir}/rspamd_dynamic";
    control_socket = "{dir}/rspamd.sock mode=0600";
    url_tld = "{psl}";
    task_timeout = 8s;
}}
logging {{
    type = "file";
    filename = "{dir}/rspamd.log";
    level = "error";
}}
modules {{
    path = "${{PLUGINSDIR}}";
}}
actions {{
    reject = 15;
    add_header = 6;
    greylist = 4;
}}
spf {{
}}
dkim {{
}}
dmarc {{
}}
milter_headers {{
    use = ["authentication-results"];
}}
worker "rspamd_proxy" {{
    bind_socket = "{sock} mode=0666";
    milter = yes;
    timeout = 120s;
    count = {count};
    upstream "local" {{
        default = yes;
        self_scan = yes;
    }}
}}
"""


class Rspamd(harness.Milter):
    """rspamd's main process and its proxy workers: all_pids() is every
    process of the side, for CPU and memory. Ready once the socket
    accepts and every worker has been forked (the main process binds the
    socket before it forks them)."""

    workers = 1

    def _ready(self):
        if not super()._ready():
            return False
        n = 0
        for pid in self.all_pids()[1:]:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    n += b"rspamd_proxy" in f.read()
            except OSError:
                pass
        return n >= self.workers and self._quiet()

    def _quiet(self):
        """Its hs_helper compiles matchers after the workers start (a
        minute and 1 GB here the first time): ready once the side uses
        under a fifth of a core for half a second, so that the
        measurement does not pay for start-up."""
        def ticks():
            total = 0
            for pid in self.all_pids():
                try:
                    with open("/proc/%d/stat" % pid) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    total += int(fields[11]) + int(fields[12])
                except (OSError, ValueError, IndexError):
                    pass
            return total
        before = ticks()
        time.sleep(0.5)
        return ticks() - before < 0.1 * os.sysconf("SC_CLK_TCK")

    def all_pids(self):
        pids, todo = [self.proc.pid], [self.proc.pid]
        while todo:
            parent = todo.pop()
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                try:
                    with open("/proc/%s/stat" % d) as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if ppid == parent:
                    pids.append(int(d))
                    todo.append(int(d))
        return pids


def rspamd_side(run, kind, name):
    if not shutil.which("rspamd"):
        return "not installed (bench/setup.sh rspamd)"
    upstream = dns_upstream(run)
    if upstream.startswith("n/a"):
        return upstream
    if kind != "unix":
        return "n/a (unix sockets only)"
    spec = run.spec(kind, name)
    # One database directory for the run: rspamd compiles its TLD and
    # regexp matchers at start (a minute on a loaded machine) and keeps
    # them there for the next cell.
    d = os.path.join(run.work, "rspamd-db")
    os.makedirs(d, exist_ok=True)
    shutil.chown(d, "_rspamd", "_rspamd")
    conf = os.path.join(d, name + ".conf")
    host, port = upstream.split("@")
    with open(conf, "w") as f:
        f.write(RSPAMD_CONF.format(dir=d, dns="%s:%s" % (host, port), psl=PSL,
                                   sock=spec[len("unix:"):],
                                   count=os.cpu_count() or 1))
    m = Rspamd(["rspamd", "-f", "-c", conf, "-u", "_rspamd", "-g", "_rspamd",
                "--var=DBDIR=" + d, "--var=RUNDIR=" + d, "--var=LOGDIR=" + d],
               spec, run.work, name)
    m.workers = os.cpu_count() or 1
    m.load_wait = 300       # see the database directory above
    return m
